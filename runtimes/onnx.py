"""ONNX Runtime adapter: the whole classifier (encoder and head) is one graph, `model.onnx`.

Devices are ONNX Runtime execution providers, best first: "cuda" (CUDAExecutionProvider,
onnxruntime-gpu), "coreml" (CoreMLExecutionProvider, Apple; Guard's "metal" resolves to it),
"cpu". A provider counts only if a session really starts on it here. A session may still hand
the nodes a provider lacks to the CPU, as ONNX Runtime always does; `info.detail` lists them.
"""

from __future__ import annotations

import functools

import numpy as np

from crest_edge.errors import ArtifactError, DeviceError
from crest_edge.extras import require
from crest_edge.formats import onnx as fmt
from crest_edge.formats import transformers_js as tjs
from crest_edge.formats.onnx import INPUTS, OUTPUT

from .base import EngineInfo, check_device, check_format, opened, pad_batch

NAME = "onnx"
PROVIDERS = {"cuda": "CUDAExecutionProvider", "coreml": "CoreMLExecutionProvider", "cpu": "CPUExecutionProvider"}
_INSTALL = {"cuda": "pip install onnxruntime-gpu (and an NVIDIA driver)", "coreml": "an Apple Mac with onnxruntime"}


def _ort():
    return require("onnxruntime", "the onnx engine")


def devices() -> list[str]:
    installed = set(_ort().get_available_providers())
    return [d for d, p in PROVIDERS.items() if p in installed and (d == "cpu" or _starts(p))]


@functools.cache
def _starts(provider: str) -> bool:
    """Whether a session really runs on `provider`: onnxruntime-gpu lists CUDA even with no GPU,
    then quietly falls back to the CPU."""
    ort = _ort()
    onnx = require("onnx", "the onnx engine")
    h = onnx.helper
    value = h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
    graph = h.make_graph(
        [h.make_node("Identity", ["x"], ["y"])],
        "probe",
        [value],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)], ir_version=8)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=[provider])
    except Exception:  # onnxruntime raises its own pybind error types when a provider cannot start
        return False
    return session.get_providers()[0] == provider


class OnnxEngine:
    def __init__(self, artifact, device: str, threads: int | None):
        ort = _ort()
        check_format(artifact, (fmt.NAME, tjs.NAME), "an ONNX one")
        check_device("onnxruntime", device, devices(), f" ({_INSTALL[device]})" if device in _INSTALL else "")
        quant = artifact.manifest.quantization
        path = artifact.path / (tjs.model_file(quant) if artifact.format == tjs.NAME else fmt.MODEL_FILE)
        if not path.is_file():
            raise ArtifactError(f"{path}: missing")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: one per physical core
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only; ORT warns about every node it places on the CPU
        wanted = PROVIDERS[device]
        providers = [wanted] if device == "cpu" else [wanted, PROVIDERS["cpu"]]
        try:
            session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as exc:  # InvalidProtobuf, Fail, InvalidGraph, ...: all onnxruntime's own types
            raise ArtifactError(f"{path}: onnxruntime could not load it ({exc})") from None
        used = session.get_providers()
        if used[0] != wanted:
            raise DeviceError(
                f"onnxruntime did not start {wanted} for {path} (it offered {', '.join(used)}); "
                f"refusing to run on another device"
            )
        names = {i.name for i in session.get_inputs()}
        if not set(INPUTS) <= names or OUTPUT not in {o.name for o in session.get_outputs()}:
            raise ArtifactError(
                f"{path}: expected inputs {', '.join(INPUTS)} and output {OUTPUT}; "
                f"it has inputs {', '.join(sorted(names))}"
            )
        self._session = session
        self._pad_id = int(artifact.manifest.model.get("pad_token_id", 1))
        threads_note = f", {threads} threads" if threads else ""
        self.info = EngineInfo(
            NAME,
            device,
            (tjs.PRECISION if artifact.format == tjs.NAME else fmt.PRECISION).get(quant, quant),
            f"onnxruntime {ort.__version__}, providers {'+'.join(used)}{threads_note}",
        )

    def logits(self, sequences) -> np.ndarray:
        session = opened(self._session, NAME)
        ids, lengths = pad_batch(sequences, self._pad_id)
        mask = (np.arange(ids.shape[1])[None, :] < lengths[:, None]).astype(np.int64)
        # InferenceSession.run is thread-safe: no lock, concurrent calls share the intra-op pool.
        out = session.run([OUTPUT], {"input_ids": ids, "attention_mask": mask})[0]
        return out.astype(np.float32, copy=False)

    def close(self) -> None:
        self._session = None


def open_engine(artifact, device: str, threads: int | None = None) -> OnnxEngine:
    return OnnxEngine(artifact, device, threads)


def capabilities() -> dict:
    """For `crest-edge doctor`: the providers this onnxruntime build lists, and the quantizations."""
    return {"providers": _ort().get_available_providers(), "quantizations": " ".join(fmt.QUANTS)}
