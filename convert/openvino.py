"""Checkpoint -> OpenVINO artifact (see crest_edge.formats.openvino): the encoder and head traced from
transformers by OpenVINO's PyTorch frontend, taking word-embedding rows instead of ids; the table
written beside it; int8 by nncf.quantize (static activation scales calibrated on the seed corpus), or
with recipe="weight-only" by nncf.compress_weights, as int4 is. How each is made is the format's fact,
formats/openvino.RECIPES."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

import numpy as np

from crest_edge.errors import ConversionError
from crest_edge.extras import require
from crest_edge.formats import openvino as fmt
from crest_edge.formats import xlmr
from crest_edge.formats.checkpoint import Checkpoint
from crest_edge.formats.openvino_ir import EmbeddingTable, compile_config

from . import onnx_export as E
from .calibration import SOURCE, calibration_sequences
from .cls_row import LAST_LAYER, cls_row_last_layer
from .common import base_manifest, copy_tokenizer, int8_rows, pick_recipe

FP32_TOLERANCE = 1e-3  # as for ONNX: a float32 IR further than this from transformers is broken


def write(checkpoint: Checkpoint, tensors: dict[str, np.ndarray], out, quant: str, recipe: str | None = None) -> Path:
    """`recipe`: a named variant of `quant`'s recipe (formats/openvino.RECIPES, e.g. int8's "weight-only")."""
    key, recipe = pick_recipe(fmt.RECIPES, fmt.NAME, quant, recipe)
    ov = require("openvino", "the openvino converter")
    for module in ("torch", "transformers") + (("nncf",) if quant in ("int8", "int4") else ()):
        require(module, "the openvino converter")
    out = Path(out)
    out.mkdir(parents=True)
    float_table = np.asarray(tensors[xlmr.WORD_EMBEDDINGS + ".weight"], dtype=np.float32)
    _write_table(out, float_table, fmt.EMBEDDINGS[quant])
    table = EmbeddingTable(out)
    model = E.load_torch_model(checkpoint)
    inputs, reference = E.check_inputs(model)
    graph = _trace(model, checkpoint.hidden_size)
    del model
    gc.collect()
    fp32_diff = _max_logit_diff(graph, float_table.__getitem__, inputs, reference, "fp32")
    if not fp32_diff <= FP32_TOLERANCE:
        raise ConversionError(f"the traced graph's logits differ from transformers' by {fp32_diff:.3g}; it is broken")
    method = {}
    if "mode" in recipe:  # int4, and int8's weight-only variant
        graph, method = _compress_weights(graph, table, calibration_sequences(checkpoint), recipe)
    elif quant == "int8":
        graph, method = _quantize_int8(graph, table, calibration_sequences(checkpoint), recipe, checkpoint.num_layers)
    # float32 storage for bf16 too: bf16 is a compile-time mode, and fp16 storage measured worse on the demo
    ov.save_model(graph, str(out / fmt.MODEL_FILE), compress_to_fp16=False)
    del graph
    diff = _max_logit_diff(str(out / fmt.MODEL_FILE), table.rows, inputs, reference, quant)
    if not np.isfinite(diff):
        raise ConversionError(f"the {quant} graph gives non-finite logits")
    copy_tokenizer(checkpoint, out)
    manifest = base_manifest(checkpoint, fmt.NAME, quant, *fmt.PACKAGES)
    manifest.model.update(
        inputs=list(fmt.INPUTS),
        output=fmt.OUTPUT,
        last_layer=LAST_LAYER,
        embeddings={"file": fmt.EMBEDDINGS_FILE, "dtype": fmt.EMBEDDINGS[quant], "lookup": "outside the graph"},
        precision_hint=fmt.PRECISION_HINT[quant],
        conversion_check={
            "reference": "transformers float32",
            "sequences": int(sum(len(i) for i, _ in inputs)),
            "max_abs_logit_diff": round(diff, 6),
        },
    )
    if method and key != quant:
        method["recipe"] = key
    manifest.quantization_recipe = method or None
    manifest.record_files(out, sorted(p.name for p in out.iterdir()))
    manifest.write(out)
    return out


def _write_table(out: Path, table: np.ndarray, dtype: str) -> None:
    if dtype == "int8":
        rows, scales = int8_rows(table)
        np.save(out / fmt.EMBEDDINGS_FILE, rows)
        np.save(out / fmt.EMBEDDING_SCALES_FILE, scales)
    else:
        np.save(out / fmt.EMBEDDINGS_FILE, np.asarray(table, dtype=dtype))


def _trace(model, hidden: int):
    """The classifier as an OpenVINO model with inputs (inputs_embeds, attention_mask) and output logits,
    its last layer computed for <s>'s row only (convert/cls_row.py)."""
    torch = require("torch", "the openvino converter")
    ov = require("openvino", "the openvino converter")
    cls_row_last_layer(model)

    class FromEmbeddings(torch.nn.Module):
        def __init__(self, classifier):
            super().__init__()
            self.classifier = classifier

        def forward(self, inputs_embeds, attention_mask):
            # right padding: the positions transformers derives for embeddings equal those of ids
            return self.classifier(inputs_embeds=inputs_embeds, attention_mask=attention_mask).logits

    example = {"inputs_embeds": torch.zeros(2, 7, hidden), "attention_mask": torch.ones(2, 7, dtype=torch.int64)}
    shapes = [ov.PartialShape([-1, -1, hidden]), ov.PartialShape([-1, -1])]
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's warnings on transformers' mask code: shapes we vary
        graph = ov.convert_model(FromEmbeddings(model), example_input=example, input=list(zip(fmt.INPUTS, shapes)))
    graph.outputs[0].get_tensor().set_names({fmt.OUTPUT})
    return graph


def _feeds(rows, ids: np.ndarray, mask: np.ndarray) -> dict:
    """`rows`: ids -> float32 embedding rows (the artifact's table, or the checkpoint's for the fp32 check)."""
    return {fmt.INPUTS[0]: rows(ids), fmt.INPUTS[1]: np.asarray(mask, dtype=np.int64)}


def _max_logit_diff(graph, rows, inputs, reference, quant: str) -> float:
    ov = require("openvino", "the openvino converter")
    compiled = ov.Core().compile_model(graph, "CPU", compile_config(fmt.PRECISION_HINT[quant], None))
    worst = 0.0
    for (ids, mask), ref in zip(inputs, reference):
        got = compiled(_feeds(rows, ids, mask))[compiled.output(fmt.OUTPUT)]
        worst = max(worst, float(np.abs(np.asarray(got, dtype=np.float32) - ref).max()))
    return worst


def _quantize_int8(graph, table: EmbeddingTable, sequences, recipe: dict, layers: int):
    nncf = require("nncf", "the openvino converter")
    items = [_feeds(table.rows, np.array([s]), np.ones((1, len(s)))) for s in sequences[: recipe["calibration_texts"]]]
    advanced = nncf.AdvancedQuantizationParameters()
    if recipe["smooth_quant_alpha"] is not None:
        advanced.smooth_quant_alphas.matmul = recipe["smooth_quant_alpha"]
    kept_float = [pattern.format(last=layers - 1) for pattern in recipe["ignored"]]
    ignored = nncf.IgnoredScope(patterns=kept_float) if kept_float else None
    quantized = nncf.quantize(
        graph,
        nncf.Dataset(items),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(items),
        fast_bias_correction=recipe["fast_bias_correction"],
        advanced_parameters=advanced,
        **({"ignored_scope": ignored} if ignored else {}),
    )
    return quantized, {
        "weights": "int8 per output channel (nncf.quantize, transformer preset)",
        "activations": "static",
        "calibration": {"corpus": SOURCE, "texts": len(items)},
        "smooth_quant_alpha": recipe["smooth_quant_alpha"] or "nncf default",
        "bias_correction": "fast" if recipe["fast_bias_correction"] else "full",
        "kept_float": kept_float,
    }


def _compress_weights(graph, table: EmbeddingTable, sequences, recipe: dict):
    nncf = require("nncf", "the openvino converter")
    mode = getattr(nncf.CompressWeightsMode, recipe["mode"].upper())
    data = {}
    if recipe["data_aware"]:  # e.g. AWQ, scale estimation: on the seed corpus's activations
        items = [_feeds(table.rows, np.array([s]), np.ones((1, len(s)))) for s in sequences]
        data = {"dataset": nncf.Dataset(items), "subset_size": len(items), **dict.fromkeys(recipe["data_aware"], True)}
    compressed = nncf.compress_weights(graph, mode=mode, group_size=recipe["group_size"], ratio=recipe["ratio"], **data)
    return compressed, {
        "weights": f"{recipe['mode']} "
        + ("per output channel" if recipe["group_size"] == -1 else f"in groups of {recipe['group_size']}")
        + f" (nncf.compress_weights), ratio {recipe['ratio']}",
        "data_aware": {"corpus": SOURCE, "texts": len(sequences), "methods": list(recipe["data_aware"])}
        if recipe["data_aware"]
        else None,
        "activations": "float",
    }
