"""Converters: a Hugging Face XLM-R classifier checkpoint -> CT2, GGUF or ONNX artifact.

Each target module exposes `write(checkpoint, tensors, out, quant) -> Path`, writing into a fresh
location; which quantizations each accepts is its format's fact (crest_edge.registry).
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
from pathlib import Path

from crest_edge import progress, registry
from crest_edge.errors import ConversionError
from crest_edge.formats.checkpoint import open_checkpoint
from crest_edge.formats.outputs import check_artifact_output
from crest_edge.log import log

from .common import outside_links


def target_module(to: str):
    return importlib.import_module(registry.format_spec(to).converter)


def convert(src, out, to: str, quant: str, force: bool = False, options: dict | None = None) -> Path:
    """Convert checkpoint `src` to format `to` at precision `quant`; return the artifact path.

    Replaces an existing `out` only with `force`, and only if crest-edge made it (see
    crest_edge.formats.outputs). Every validation problem is reported at once. `options` go to the
    format's writer (the methods a format offers within one quantization, e.g. tensor overrides).
    """
    quant = quant.lower()
    problem = registry.quant_problem(to, quant)
    if problem:
        raise ConversionError(problem)
    module = target_module(to)
    out = check_artifact_output(out, force, src)
    with progress.steps(f"convert {Path(src).name} -> {to} {quant}"):
        return _convert(module, src, out, to, quant, options)


def _convert(module, src, out: Path, to: str, quant: str, options: dict | None) -> Path:
    progress.note("reading the checkpoint")
    checkpoint = open_checkpoint(src)
    if "unsafe" not in [label.lower() for label in checkpoint.labels]:
        raise ConversionError(
            f"{checkpoint.path}: its labels {checkpoint.labels} have no 'unsafe' (config.json id2label); "
            "an artifact must name the label whose probability is the score"
        )
    for link in outside_links(checkpoint):
        log.warning("crest-edge convert: %s is a link to outside the checkpoint; its target is what gets read", link)
    tensors = checkpoint.validated_tensors()
    progress.note(f"writing {to} {quant}")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target, then swap in, so a failed conversion never leaves half an artifact.
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        built = module.write(checkpoint, tensors, staging / out.name, quant, **(options or {}))
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        built.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
