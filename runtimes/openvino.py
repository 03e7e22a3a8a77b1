"""OpenVINO adapter: the encoder and head are one IR graph (`model.xml`); the word-embedding lookup
is done here, from the table beside it (see crest_edge.formats.openvino for why).

Devices are the ones OpenVINO's Core lists here (CPU, GPU, NPU); "gpu" and "npu" mean the first of
their kind. The precision reported is the compiled model's INFERENCE_PRECISION_HINT: what OpenVINO
really runs the graph's float parts at, e.g. bfloat16 on a CPU with AMX or AVX512-BF16.
"""

from __future__ import annotations

import queue

import numpy as np

from crest_edge.errors import ArtifactError
from crest_edge.extras import require
from crest_edge.formats import openvino as fmt
from crest_edge.formats.openvino_ir import EmbeddingTable, compile_config, float_precision

from .base import EngineInfo, check_device, check_format, opened, pad_batch

NAME = "openvino"


def _ov():
    return require("openvino", "the openvino engine")


def _core():
    return _ov().Core()


def devices() -> list[str]:
    listed = {name.split(".")[0] for name in _core().available_devices}
    return [ours for ours, theirs in fmt.DEVICES.items() if theirs in listed]


class OpenVinoEngine:
    def __init__(self, artifact, device: str, threads: int | None):
        ov = _ov()
        check_format(artifact, (fmt.NAME,), "an OpenVINO one")
        check_device("OpenVINO", device, devices())
        path = artifact.path / fmt.MODEL_FILE
        for needed in (path, artifact.path / fmt.WEIGHTS_FILE):
            if not needed.is_file():
                raise ArtifactError(f"{needed}: missing")
        self._table = EmbeddingTable(artifact.path)
        quant = artifact.manifest.quantization
        hint = artifact.manifest.model.get("precision_hint", fmt.PRECISION_HINT[quant])
        core = ov.Core()
        try:
            compiled = core.compile_model(
                str(path), fmt.DEVICES[device], compile_config(hint, threads, fmt.DEVICES[device])
            )
        except RuntimeError as exc:  # OpenVINO raises RuntimeError (its own Exception types) for bad IR
            raise ArtifactError(f"{path}: OpenVINO could not compile it ({str(exc).splitlines()[0]})") from None
        names = {name for port in compiled.inputs for name in port.get_names()}
        if not set(fmt.INPUTS) <= names:
            raise ArtifactError(f"{path}: expected inputs {', '.join(fmt.INPUTS)}; it has {', '.join(sorted(names))}")
        self._compiled = compiled
        self._idle = queue.SimpleQueue()  # infer requests not in use; see logits()
        self._pad_id = int(artifact.manifest.model.get("pad_token_id", 1))
        float_part = float_precision(compiled)
        precision = quant if quant in ("int8", "int4") else float_part
        threads_used = compiled.get_property("INFERENCE_NUM_THREADS") if device == "cpu" else None
        detail = f"openvino {ov.get_version().split('-')[0]}, {fmt.DEVICES[device]}, float ops in {float_part}"
        self.info = EngineInfo(NAME, device, precision, detail + (f", {threads_used} threads" if threads_used else ""))

    def logits(self, sequences) -> np.ndarray:
        compiled = opened(self._compiled, NAME)
        ids, lengths = pad_batch(sequences, self._pad_id)
        if int(ids.max()) >= self._table.vocab_size:
            raise ArtifactError(f"token id {int(ids.max())} is outside the embedding table ({self._table.vocab_size})")
        mask = (np.arange(ids.shape[1])[None, :] < lengths[:, None]).astype(np.int64)
        # Infer requests are not thread-safe and creating one per call costs its buffers each time: each
        # call takes an idle one (or makes one), so concurrent calls never share a request.
        try:
            request = self._idle.get_nowait()
        except queue.Empty:
            request = compiled.create_infer_request()
        try:
            result = request.infer({fmt.INPUTS[0]: self._table.rows(ids), fmt.INPUTS[1]: mask})
            return np.array(result[compiled.output(fmt.OUTPUT)], dtype=np.float32)
        finally:
            self._idle.put(request)

    def close(self) -> None:
        self._compiled = None
        self._idle = queue.SimpleQueue()


def open_engine(artifact, device: str, threads: int | None = None) -> OpenVinoEngine:
    return OpenVinoEngine(artifact, device, threads)


def capabilities() -> dict:
    """For `crest-edge doctor`: each device OpenVINO lists, its name and what it computes in; for the
    CPU also whether it has AMX (OpenVINO uses AMX for bf16 and int8 when present, without saying so)."""
    from crest_edge.cpu import cpu_flags

    core = _core()
    found = {}
    for name in core.available_devices:
        caps = [
            c for c in core.get_property(name, "OPTIMIZATION_CAPABILITIES") if c in ("FP32", "BF16", "FP16", "INT8")
        ]
        if name == "CPU":
            amx = [f.removeprefix("amx_") for f in ("amx_int8", "amx_bf16") if f in cpu_flags()]
            caps.append(f"AMX {'+'.join(amx)}" if amx else "no AMX")
        found[name] = f"{core.get_property(name, 'FULL_DEVICE_NAME')} ({' '.join(caps)})"
    return {"device_capabilities": found, "quantizations": " ".join(fmt.QUANTS)}
