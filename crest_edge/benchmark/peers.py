"""The plain ONNX Runtime int8 peer: what a user does by hand, without crest-edge.

torch.onnx.export with its defaults (the dynamo exporter in torch 2.x, transformers' default
SDPA attention), `quantize_dynamic(weight_type=QInt8)` with default options and no fusion or
pre-processing, then an InferenceSession with default options; each batch is padded to its
longest sequence in the order given, never sorted by length.
"""

from __future__ import annotations

import contextlib
import sys
import types
import warnings
from pathlib import Path

import numpy as np

MODEL_FILE = "model.onnx"
PAD_ID = 1


def export_plain_onnx_int8(checkpoint_dir, out_dir) -> Path:
    """Export and quantize `checkpoint_dir` into `out_dir`; return the int8 .onnx file."""
    from crest_edge.extras import require

    torch = require("torch", "the plain ONNX peer")
    transformers = require("transformers", "the plain ONNX peer")
    require("onnxruntime", "the plain ONNX peer")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = transformers.XLMRobertaForSequenceClassification.from_pretrained(
        str(checkpoint_dir), local_files_only=True
    ).eval()
    ids = torch.tensor([[0, 10, 11, 12, 2], [0, 13, 2, 1, 1]])
    mask = (ids != PAD_ID).long()
    fp32 = out / "fp32" / MODEL_FILE
    fp32.parent.mkdir(exist_ok=True)
    axes = {0: "batch", 1: "sequence"}
    # the exporter prints progress to stdout, which the bench keeps for its JSON
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (ids, mask),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}},
        )
        int8 = out / MODEL_FILE
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8)
    for file in fp32.parent.iterdir():
        file.unlink()
    fp32.parent.rmdir()
    return int8


class PlainOnnxRunner:
    """An InferenceSession with default options (the CPU provider; `threads` intra-op threads if given)."""

    def __init__(self, path, threads: int | None = None):
        from crest_edge.extras import require

        ort = require("onnxruntime", "the plain ONNX peer")

        path = Path(path)
        path = path / MODEL_FILE if path.is_dir() else path
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.info = types.SimpleNamespace(
            engine="onnxruntime (plain)",
            device="cpu",
            precision="int8",
            detail=f"onnxruntime {ort.__version__}, default session options",
        )

    def logits(self, ids_batch, mask=None) -> np.ndarray:
        """Logits for id lists (padded here to the longest) or for an already padded array and its mask."""
        if mask is None:
            longest = max(len(s) for s in ids_batch)
            ids = np.full((len(ids_batch), longest), PAD_ID, dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, seq in enumerate(ids_batch):
                ids[row, : len(seq)], mask[row, : len(seq)] = seq, 1
        else:
            ids, mask = np.asarray(ids_batch, dtype=np.int64), np.asarray(mask, dtype=np.int64)
        return self._session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]

    def close(self) -> None:
        self._session = None
