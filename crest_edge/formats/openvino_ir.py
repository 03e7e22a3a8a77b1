"""Reading an OpenVINO artifact, for the converter's checks, the adapter and the bench's OpenVINO peers:
the embedding table beside the IR, the compile properties, and the precision a compiled model reports."""

from __future__ import annotations

import numpy as np

from ..errors import ArtifactError
from . import openvino as fmt


class EmbeddingTable:
    """The artifact's word-embedding table, memory-mapped: `rows(ids)` gives float32 [*ids.shape, hidden]."""

    def __init__(self, directory):
        path = directory / fmt.EMBEDDINGS_FILE
        if not path.is_file():
            raise ArtifactError(f"{path}: missing")
        try:
            self._table = np.load(path, mmap_mode="r")
            scales = directory / fmt.EMBEDDING_SCALES_FILE
            self._scales = np.load(scales) if self._table.dtype == np.int8 else None
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{path}: not a readable embedding table ({exc})") from None
        if self._table.ndim != 2 or (self._scales is not None and self._scales.shape != self._table.shape[:1]):
            raise ArtifactError(f"{path}: table shape {self._table.shape} does not match its row scales")

    @property
    def vocab_size(self) -> int:
        return int(self._table.shape[0])

    def rows(self, ids: np.ndarray) -> np.ndarray:
        found = np.asarray(self._table[ids], dtype=np.float32)
        if self._scales is not None:
            found *= self._scales[ids][..., None]
        return found


def compile_config(precision_hint: str, threads: int | None, device: str = "CPU") -> dict:
    """The properties every compile of a crest-edge IR gets (the converter's checks use the same).

    On the CPU, no dynamic quantization of activations: for weight-compressed MatMuls (int4, and the
    int8 layers int4 keeps) OpenVINO would quantize activations per call, and a text's score then moved
    by 4.4e-4 with its batch neighbours on the demo (1.8e-7 without)."""
    config = {"INFERENCE_PRECISION_HINT": precision_hint, "PERFORMANCE_HINT": "LATENCY"}
    if device == "CPU":
        config["DYNAMIC_QUANTIZATION_GROUP_SIZE"] = 0
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    return config


def float_precision(compiled) -> str:
    """What a compiled model runs its float ops at ("float32", "bfloat16", "float16"), as it reports it:
    OpenVINO prints the hint as "<Type: 'bfloat16'>" or "bf16", by version."""
    hint = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
    for short, name in fmt.REPORTED_PRECISION.items():
        if short in hint or name in hint:
            return name
    return hint
