"""Checkpoint -> transformers.js package (see crest_edge.formats.transformers_js): the onnx format's
graph at the matching precision, renamed into `onnx/`, the Hugging Face tokenizer files that
transformers.js reads, written by transformers from the checkpoint's sentencepiece model, and the ES
module that makes transformers.js tokenize as crest-edge does."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from crest_edge import progress
from crest_edge.extras import require
from crest_edge.formats import onnx as onnx_fmt
from crest_edge.formats import transformers_js as fmt
from crest_edge.formats.checkpoint import Checkpoint
from crest_edge.formats.manifest import MANIFEST_NAME, Manifest

from . import onnx as onnx_writer


def write(checkpoint: Checkpoint, tensors: dict[str, np.ndarray], out, quant: str) -> Path:
    transformers = require("transformers", "the transformers.js package")
    onnx_quant, graph_name = fmt.DTYPES[quant]
    out = Path(out)
    graph = onnx_writer.write(checkpoint, tensors, out.with_name(out.name + ".onnx"), onnx_quant)
    try:
        out.mkdir()
        (out / fmt.ONNX_DIR).mkdir()
        shutil.move(graph / onnx_fmt.MODEL_FILE, out / fmt.model_file(quant))
        for name in graph.iterdir():
            if name.name.startswith(onnx_fmt.MODEL_FILE):  # external weights, if any, keep their name
                shutil.move(name, out / fmt.ONNX_DIR / name.name)
        progress.note("writing the transformers.js layout")
        tokenizer = transformers.XLMRobertaTokenizer.from_pretrained(str(checkpoint.path))
        tokenizer.model_max_length = checkpoint.max_length
        tokenizer.save_pretrained(str(out))
        _for_transformers_js(out)
        shutil.copyfile(checkpoint.path / "config.json", out / "config.json")
        for name in graph.iterdir():  # crest-edge's tokenizer file (the sentencepiece model)
            if name.name != MANIFEST_NAME and not (out / name.name).exists():
                shutil.move(name, out / name.name)
        onnx_manifest = Manifest.read(graph)
    finally:
        shutil.rmtree(graph, ignore_errors=True)
    for extra in ("special_tokens_map.json",):  # transformers 4.x writes it; transformers.js does not read it
        (out / extra).unlink(missing_ok=True)
    manifest = Manifest(
        format=fmt.NAME,
        quantization=quant,
        labels=onnx_manifest.labels,
        max_length=onnx_manifest.max_length,
        source_sha256=onnx_manifest.source_sha256,
        versions={**onnx_manifest.versions, **_versions()},
        model={
            **onnx_manifest.model,
            "graph": fmt.model_file(quant),
            "onnx_quantization": onnx_quant,
            # what transformers.js itself does differently, measured on the demo (see the format module)
            "transformers_js": {
                "tokenizer_module": fmt.TOKENIZER_MODULE,
                "tokenizer": fmt.BROWSER_TOKENIZER_MISMATCHES,
                "truncation": fmt.TRUNCATION,
            },
        },
    )
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    manifest.record_files(out, names)
    manifest.write(out)
    return out


def _versions() -> dict:
    from crest_edge.formats.manifest import engine_versions

    return {k: v for k, v in engine_versions("transformers", "tokenizers").items() if k != "crest-edge"}


def _for_transformers_js(out: Path) -> None:
    """transformers.js (3.x) prepends U+2581 only when Metaspace says `add_prefix_space` (the field
    tokenizers wrote before `prepend_scheme`); without it every first word is split differently.
    tokenizers still reads the file. Local-path keys transformers writes are dropped. The app's
    module for crest-edge's exact ids is written beside them."""
    import json

    path = out / "tokenizer.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    stages = [data.get("pre_tokenizer") or {}, data.get("decoder") or {}]
    stages += stages[0].get("pretokenizers", [])
    for stage in stages:
        if stage.get("type") == "Metaspace":
            stage["add_prefix_space"] = stage.get("prepend_scheme", "always") != "never"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    config = out / "tokenizer_config.json"
    settings = json.loads(config.read_text(encoding="utf-8"))
    for key in ("is_local", "local_files_only"):
        settings.pop(key, None)
    config.write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / fmt.TOKENIZER_MODULE).write_text(tokenizer_module(), encoding="utf-8")


def tokenizer_module() -> str:
    """transformers_js_tokenizer.js with crest-edge's grapheme tables and patterns filled in."""
    import json

    from crest_edge.tokenizer import graphemes, xlmr

    values = {
        "__GRAPHEME_TABLES__": graphemes.table_text(),
        "__CLUSTER__": graphemes._CLUSTER,
        "__REGION__": graphemes._REGION,
        "__WHITESPACE__": xlmr._WHITESPACE.pattern,
    }
    text = (Path(__file__).parent / "transformers_js_tokenizer.js").read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(name, json.dumps(value))
    return text
