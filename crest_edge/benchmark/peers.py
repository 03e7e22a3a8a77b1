"""The peers: what a user does by hand, without crest-edge.

Plain ONNX Runtime int8:

torch.onnx.export with its defaults (the dynamo exporter in torch 2.x, transformers' default
SDPA attention), `quantize_dynamic(weight_type=QInt8)` with default options and no fusion or
pre-processing, then an InferenceSession with default options; each batch is padded to its
longest sequence in the order given, never sorted by length.

OpenVINO, raw: an fp32 ONNX export (crest-edge's `--to onnx --quant fp32`, the TorchScript exporter)
read by OpenVINO as it is, compiled with default settings (which on a CPU with AMX or AVX512-BF16 run
the float ops in bfloat16). OpenVINO + NNCF: the same export through nncf.quantize with the
transformer preset and 64 seed-corpus texts, otherwise defaults.
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


def export_plain_onnx_fp32(checkpoint_dir, path) -> Path:
    """torch.onnx.export of `checkpoint_dir` with its defaults and dynamic batch and sequence axes."""
    from crest_edge.extras import require

    torch = require("torch", "the plain ONNX peer")
    transformers = require("transformers", "the plain ONNX peer")
    model = transformers.XLMRobertaForSequenceClassification.from_pretrained(
        str(checkpoint_dir), local_files_only=True
    ).eval()
    ids = torch.tensor([[0, 10, 11, 12, 2], [0, 13, 2, 1, 1]])
    mask = (ids != PAD_ID).long()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    axes = {0: "batch", 1: "sequence"}
    # the exporter prints progress to stdout, which the bench keeps for its JSON
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}},
        )
    return path


def export_plain_onnx_int8(checkpoint_dir, out_dir) -> Path:
    """Export and quantize `checkpoint_dir` into `out_dir`; return the int8 .onnx file."""
    from crest_edge.extras import require

    require("onnxruntime", "the plain ONNX peer")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = Path(out_dir)
    fp32 = export_plain_onnx_fp32(checkpoint_dir, out / "fp32" / MODEL_FILE)
    int8 = out / MODEL_FILE
    with contextlib.redirect_stdout(sys.stderr):
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8)
    for file in fp32.parent.iterdir():
        file.unlink()
    fp32.parent.rmdir()
    return int8


def export_openvino_nncf_int8(onnx_fp32, checkpoint_dir, out_dir, texts: int = 64) -> Path:
    """What an OpenVINO user does by hand: read the plain fp32 ONNX, nncf.quantize it with the transformer
    preset and otherwise default settings on `texts` seed-corpus texts, save the IR; returns model.xml."""
    from crest_edge.extras import require

    ov = require("openvino", "the OpenVINO peers")
    nncf = require("nncf", "the OpenVINO peers")
    from crest_edge.convert.calibration import calibration_sequences
    from crest_edge.formats.checkpoint import open_checkpoint

    def feed(ids):
        ids = np.array([ids], dtype=np.int64)
        return {"input_ids": ids, "attention_mask": np.ones_like(ids)}

    sequences = calibration_sequences(open_checkpoint(checkpoint_dir), texts)
    with contextlib.redirect_stdout(sys.stderr):
        quantized = nncf.quantize(
            ov.convert_model(str(onnx_fp32)),
            nncf.Dataset(sequences, feed),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(sequences),
        )
    target = Path(out_dir) / "model.xml"
    ov.save_model(quantized, str(target))
    return target


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
        return np.asarray(self._run(ids, mask), dtype=np.float32)

    def _run(self, ids, mask):
        return self._session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]

    def close(self) -> None:
        self._session = None


class OpenVinoPeerRunner(PlainOnnxRunner):
    """OpenVINO with its default settings on the CPU (the precision it picks; `threads` if given) for
    a graph taking input_ids and attention_mask: the plain fp32 ONNX, or the NNCF int8 IR."""

    def __init__(self, path, threads: int | None = None, precision: str = "fp32 as read"):
        from crest_edge.extras import require

        ov = require("openvino", "the OpenVINO peers")
        compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_NUM_THREADS": threads} if threads else {})
        from crest_edge.formats.openvino_ir import float_precision

        self._compiled = compiled
        self.info = types.SimpleNamespace(
            engine="openvino (plain)",
            device="cpu",
            precision=f"{precision}, float ops in {float_precision(compiled)}",
            detail=f"openvino {ov.get_version().split('-')[0]}, default compile options",
        )

    def _run(self, ids, mask):
        return self._compiled({"input_ids": ids, "attention_mask": mask})[self._compiled.output(0)]

    def close(self) -> None:
        self._compiled = None
