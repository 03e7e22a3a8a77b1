"""Checkpoint -> ONNX Runtime artifact: `model.onnx` (input_ids, attention_mask -> logits, head inside).

| --quant | graph                                                                                   |
|---------|-----------------------------------------------------------------------------------------|
| fp32    | the export as is; ORT fuses attention, LayerNorm and GELU itself when it loads it        |
| fp16    | ORT's BERT fusions, then float16 weights and compute (for GPUs); ids in, float32 logits out |
| int8    | dynamic quantization: int8 MatMul weights, activations quantized per call (VNNI)         |
| int4    | 4-bit weight-only MatMulNBits (block 32, int8 compute)                                   |

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
from .common import base_manifest, copy_tokenizer

FP32_TOLERANCE = 1e-3  # a float32 export further than this from transformers is broken, not imprecise


def write(
    checkpoint: Checkpoint, tensors: dict[str, np.ndarray], out, quant: str, with_tokenizer=False, ort=False
) -> Path:
    """`with_tokenizer`: also the string-input graph (convert/onnx_tokenizer.py); `ort`: also the ORT
    format of each graph and required_operators.config (convert/onnx_ort.py)."""
    needed = ("onnx", "onnxruntime", "torch", "transformers") + (("onnx_ir",) if quant == "int4" else ())
    for module in needed + (("onnxruntime_extensions",) if with_tokenizer else ()):
        require(module, "the onnx converter")
    out = Path(out)
    out.mkdir(parents=True)
    target = out / fmt.MODEL_FILE
    with tempfile.TemporaryDirectory(prefix=".onnx-work.", dir=out.parent) as work:
        model = E.load_torch_model(checkpoint)
        exported = E.export(model, Path(work) / fmt.MODEL_FILE)
        inputs, reference = E.check_inputs(model)
        del model
        gc.collect()  # quantizing base holds several copies of the graph; the torch weights can go
        fp32_diff = E.max_logit_diff(exported, inputs, reference)
        if not fp32_diff <= FP32_TOLERANCE:
            raise ConversionError(
                f"the exported graph's logits differ from transformers' by {fp32_diff:.3g} "
                f"(more than {FP32_TOLERANCE}); the export is broken"
            )
        _lower(exported, target, checkpoint, quant)
    diff = E.max_logit_diff(target, inputs, reference)
    if not np.isfinite(diff):
        raise ConversionError(f"the {quant} graph gives non-finite logits")
    copy_tokenizer(checkpoint, out)
    manifest = base_manifest(
        checkpoint, fmt.NAME, quant, *fmt.PACKAGES, *(onnx_text.PACKAGES if with_tokenizer else ())
    )
    manifest.model.update(opset=E.opset_of(target), inputs=list(fmt.INPUTS), output=fmt.OUTPUT)
    manifest.model["conversion_check"] = {
        "reference": "transformers float32",
        "sequences": int(sum(len(i) for i, _ in inputs)),
        "max_abs_logit_diff": round(diff, 6),
    }
    if with_tokenizer:
        manifest.model["with_tokenizer"] = onnx_tokenizer.write(checkpoint, out, fmt.MODEL_FILE)
    if ort:
        graphs = [fmt.MODEL_FILE] + ([onnx_text.MODEL_FILE] if with_tokenizer else [])
        manifest.model["ort_format"] = onnx_ort.write(out, graphs)
    manifest.record_files(out, sorted(p.name for p in out.iterdir()))
    manifest.write(out)
    return out


def _lower(exported: Path, target: Path, checkpoint: Checkpoint, quant: str) -> None:
    onnx = require("onnx", "the onnx converter")
    if quant == "fp32":
        E.save(onnx.load(str(exported)), target)  # re-saved so any external data lands in one file
    elif quant == "fp16":
        E.save(E.to_fp16(E.fuse(exported, checkpoint)), target)
    elif quant == "int8":
        staged = E.save(E.embeddings_int8(onnx.load(str(exported))), exported.with_name("embeddings-int8.onnx"))
        E.quantize_int8(staged, target)
    elif quant == "int4":
        E.quantize_int4(E.embeddings_int8(onnx.load(str(exported))), target)
    else:
        raise ConversionError(f"--quant {quant!r} is not available for onnx; choose from {', '.join(fmt.QUANTS)}")
