"""Checkpoint -> ONNX Runtime artifact: `model.onnx` (input_ids, attention_mask -> logits, head inside).

| --quant | graph                                                                                   |
|---------|-----------------------------------------------------------------------------------------|
| fp32    | the export as is; ORT fuses attention, LayerNorm and GELU itself when it loads it        |
| fp16    | ORT's BERT fusions, then float16 weights and compute (for GPUs); ids in, float32 logits out |
| int8    | QDQ: int8 MatMul weights per channel, activation scales calibrated on the seed corpus     |
| int8, `recipe="weight-only"` | 8-bit weight-only MatMulNBits (block 32), float32 compute: auto-8bit's fallback |
| int4    | 4-bit weight-only MatMulNBits (block 32, int8 compute)                                   |

Every graph computes its last layer for `<s>`'s row only (convert/cls_row.py), the only row the head reads.

How int8 and int4 are lowered (smoothing, calibration, layers kept at higher precision) is the
format's fact, crest_edge.formats.onnx.RECIPES; the manifest records the recipe used.

int8 and int4 keep the word embeddings (~70% of XLM-R base) as int8 with a scale per row.

Offline fusion is left to fp16: on the CPU, ORT's own load-time fusions already do as well
(measured on XLM-R base: fused fp32 and int8 graphs ran 0-15% slower than unfused ones).
A graph over 2 GB keeps its weights in `model.onnx.data` beside it.
"""

from __future__ import annotations

import gc
import tempfile
from pathlib import Path

import numpy as np

from crest_edge.errors import ConversionError
from crest_edge.extras import require
from crest_edge.formats import onnx as fmt
from crest_edge.formats import onnx_text
from crest_edge.formats.checkpoint import Checkpoint

from . import onnx_export as E
from . import onnx_ort, onnx_tokenizer
from .activations import SITES, input_absmax
from .calibration import SOURCE, calibration_sequences
from .cls_row import LAST_LAYER, cls_row_last_layer
from .common import base_manifest, copy_tokenizer, pick_recipe
from .outlier_split import outlier_channels, split_qkv
from .smoothing import smooth

FP32_TOLERANCE = 1e-3  # a float32 export further than this from transformers is broken, not imprecise


def write(
    checkpoint: Checkpoint,
    tensors: dict[str, np.ndarray],
    out,
    quant: str,
    with_tokenizer=False,
    ort=False,
    recipe: str | None = None,
) -> Path:
    """`with_tokenizer`: also the string-input graph (convert/onnx_tokenizer.py); `ort`: also the ORT
    format of each graph and required_operators.config (convert/onnx_ort.py); `recipe`: a named variant
    of `quant`'s recipe (crest_edge.formats.onnx.RECIPES, e.g. int8's "weight-only")."""
    key, recipe = pick_recipe(fmt.RECIPES, fmt.NAME, quant, recipe)
    needed = ("onnx", "onnxruntime", "torch", "transformers") + (("onnx_ir",) if recipe.get("bits") else ())
    for module in needed + (("onnxruntime_extensions",) if with_tokenizer else ()):
        require(module, "the onnx converter")
    out = Path(out)
    out.mkdir(parents=True)
    target = out / fmt.MODEL_FILE
    calibrated = recipe.get("smoothing") or recipe.get("activations") == "static"
    calibration = calibration_sequences(checkpoint) if calibrated else []
    method = {}
    with tempfile.TemporaryDirectory(prefix=".onnx-work.", dir=out.parent) as work:
        model = E.load_torch_model(checkpoint)
        inputs, reference = E.check_inputs(model)  # the unmodified model's logits: smoothing must keep them
        cls_row_last_layer(model)
        measured = recipe.get("smoothing") or recipe.get("qkv_outliers")
        absmax = input_absmax(checkpoint, tensors, calibration) if measured else {}
        input_scales = {}
        if recipe.get("smoothing"):
            alpha, sites = recipe["smoothing"]
            smoothed = smooth(tensors, absmax, alpha, sites)
            E.smooth_torch_model(model, smoothed)
            method["smoothing"] = smoothed.describe()
            input_scales = smoothed.input_scales
        if recipe.get("qkv_outliers"):
            channels = _qkv_outliers(checkpoint.num_layers, absmax, input_scales, recipe)
            split_qkv(model, channels)
            method["qkv_outliers"] = {
                **recipe["qkv_outliers"],
                "computed": "float32, apart from the int8 MatMul",
                "channels": {str(layer): found for layer, found in channels.items()},
            }
        exported = E.export(model, Path(work) / fmt.MODEL_FILE)
        del model
        gc.collect()  # quantizing base holds several copies of the graph; the torch weights can go
        fp32_diff = E.max_logit_diff(exported, inputs, reference)
        if not fp32_diff <= FP32_TOLERANCE:
            raise ConversionError(
                f"the exported graph's logits differ from transformers' by {fp32_diff:.3g} "
                f"(more than {FP32_TOLERANCE}); the export is broken"
            )
        method.update(_lower(exported, target, checkpoint, quant, recipe, calibration))
    diff = E.max_logit_diff(target, inputs, reference)
    if not np.isfinite(diff):
        raise ConversionError(f"the {quant} graph gives non-finite logits")
    copy_tokenizer(checkpoint, out)
    manifest = base_manifest(
        checkpoint, fmt.NAME, quant, *fmt.PACKAGES, *(onnx_text.PACKAGES if with_tokenizer else ())
    )
    manifest.model.update(opset=E.opset_of(target), inputs=list(fmt.INPUTS), output=fmt.OUTPUT, last_layer=LAST_LAYER)
    manifest.model["conversion_check"] = {
        "reference": "transformers float32",
        "sequences": int(sum(len(i) for i, _ in inputs)),
        "max_abs_logit_diff": round(diff, 6),
    }
    if method and key != quant:
        method["recipe"] = key
    manifest.quantization_recipe = method or None
    if with_tokenizer:
        manifest.model["with_tokenizer"] = onnx_tokenizer.write(checkpoint, out, fmt.MODEL_FILE)
    if ort:
        graphs = [fmt.MODEL_FILE] + ([onnx_text.MODEL_FILE] if with_tokenizer else [])
        manifest.model["ort_format"] = onnx_ort.write(out, graphs)
    manifest.record_files(out, sorted(p.name for p in out.iterdir()))
    manifest.write(out)
    return out


def _qkv_outliers(layers: int, absmax, input_scales, recipe) -> dict[int, list[int]]:
    """Each layer's Q/K/V input channels to compute apart (convert/outlier_split.py), from the calibrated
    max |x| as the quantized MatMul will see it: after smoothing's factor, which scales a channel's max
    by itself. Layers whose Q/K/V stay float are left out."""
    rule, kept = recipe["qkv_outliers"], recipe["float_layers"].get("qkv", ())
    channels = {}
    for layer in range(layers):
        if layer not in kept:
            seen = absmax[layer, "qkv"] * input_scales.get((layer, "qkv"), 1.0)
            channels[layer] = outlier_channels(seen, rule["ratio"], rule["most"])
    return channels


def _lower(exported: Path, target: Path, checkpoint: Checkpoint, quant: str, recipe: dict, calibration) -> dict:
    """Write `target` at `quant`; return what the manifest should record about how."""
    onnx = require("onnx", "the onnx converter")
    if quant == "fp32":
        E.save(onnx.load(str(exported)), target)  # re-saved so any external data lands in one file
        return {}
    if quant == "fp16":
        E.save(E.to_fp16(E.fuse(exported, checkpoint)), target)
        return {}
    model = E.embeddings_int8(onnx.load(str(exported)))
    if recipe.get("bits"):
        E.quantize_nbits(model, target, recipe)
        level = recipe["accuracy_level"]
        computed = "int8 per block" if level == 4 else "float32"
        return {
            "weights": f"MatMulNBits {recipe['bits']}-bit, block {recipe['block']}",
            "activations": f"{computed} (accuracy_level {level})",
        }
    if quant == "int8":
        nodes = E.site_nodes(model, checkpoint.num_layers, SITES, recipe["float_layers"])
        staged = E.save(model, exported.with_name("embeddings-int8.onnx"))
        if recipe["activations"] == "static":
            E.quantize_int8_static(staged, target, calibration, nodes, checkpoint.pad_id)
        else:
            E.quantize_int8_dynamic(staged, target)
        return {
            "weights": "int8 per output channel" if recipe["activations"] == "static" else "int8 per tensor",
            "activations": recipe["activations"],
            "calibration": {"corpus": SOURCE, "texts": len(calibration), "ranges": "min/max"}
            if recipe["activations"] == "static"
            else None,
            "kept_float": {site: list(layers) for site, layers in recipe["float_layers"].items()},
        }
    raise ConversionError(f"--quant {quant!r} is not available for onnx; choose from {', '.join(fmt.QUANTS)}")
