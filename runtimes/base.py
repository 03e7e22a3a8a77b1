"""The one protocol every engine adapter implements.

An adapter module (`crest_edge.runtimes.<name>`) exposes:
    NAME: str                                  engine name ("torch", "ct2", "llamacpp", "onnx", "openvino")
    devices() -> list[str]                     devices this build and machine can run on, best first
    open_engine(artifact, device, threads) -> Engine
Everything else (tokenizing, windows, softmax, thresholds, verdicts) lives above, in crest_edge.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from crest_edge.errors import ArtifactError, ClosedError, DeviceError


@dataclasses.dataclass(frozen=True)
class EngineInfo:
    engine: str  # "torch" | "ct2" | "llamacpp" | "onnx" | "openvino"
    device: str  # "cpu" | "cuda" | "metal" | "coreml": what the engine really runs on
    precision: str  # effective compute type / quantization, read back from the engine
    detail: str = ""  # e.g. ONNX provider list, CPU ISA, GPU layers offloaded

    def describe(self) -> str:
        extra = f", {self.detail}" if self.detail else ""
        return f"{self.engine} on {self.device} ({self.precision}{extra})"


class Engine(Protocol):
    info: EngineInfo

    def logits(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        """Raw logits, float32 (len(sequences), num_labels).

        Each sequence is a complete id list (<s> ... </s>) no longer than the model's max length.
        The caller passes sequences sorted by length in bounded chunks; the engine pads and
        masks as it needs, and must never let padding be attended.
        """

    def close(self) -> None: ...


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad to the longest sequence: (ids int64 [n, L], lengths int32 [n])."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int32, count=len(sequences))
    ids = np.full((len(sequences), int(lengths.max())), pad_id, dtype=np.int64)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = seq
    return ids, lengths


def classifier_head(cls_hidden: np.ndarray, head: dict[str, np.ndarray]) -> np.ndarray:
    """RobertaClassificationHead on the <s> hidden states: dense -> tanh -> out_proj.

    einsum, not matmul: matmul goes to BLAS, whose own thread pool fights the engine's threads for
    the cores and made batch-1 calls 2-4x slower on a 2-core machine."""
    x = np.tanh(np.einsum("nh,oh->no", cls_hidden.astype(np.float32), head["dense.weight"]) + head["dense.bias"])
    return (np.einsum("nh,oh->no", x, head["out_proj.weight"]) + head["out_proj.bias"]).astype(np.float32)


def opened(handle, engine: str):
    """`handle` (an engine's session, model or context), or ClosedError once the engine was closed."""
    if handle is None:
        raise ClosedError(f"this {engine} engine is closed")
    return handle


def check_format(artifact, formats: Sequence[str], kind: str) -> None:
    """ArtifactError unless `artifact` is one of `formats` (an adapter opens only its own kind)."""
    if artifact.format not in formats:
        raise ArtifactError(f"{artifact.path}: a {artifact.format} artifact, not {kind}")


def check_device(engine: str, device: str, available: Sequence[str], hint: str = "") -> None:
    """DeviceError listing what is there when an explicit `device` is not (no silent fallback)."""
    if device not in available:
        raise DeviceError(f"{engine} cannot use device {device!r}{hint}; available: {', '.join(available)}")
