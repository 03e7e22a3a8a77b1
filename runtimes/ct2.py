"""CTranslate2 adapter: the encoder runs in CT2, the classification head in numpy (fp32)."""

from __future__ import annotations

import zipfile

import numpy as np

from crest_edge.errors import ArtifactError, DeviceError
from crest_edge.extras import require
from crest_edge.formats import ct2 as fmt

from .base import EngineInfo, check_device, check_format, classifier_head, opened, pad_batch

NAME = "ct2"


def _ct2():
    return require("ctranslate2", "the ct2 engine")


def devices() -> list[str]:
    return ["cuda", "cpu"] if _ct2().get_cuda_device_count() > 0 else ["cpu"]


def read_head(path, hidden: int, num_labels: int) -> dict[str, np.ndarray]:
    expected = dict(zip(fmt.HEAD_TENSORS, ((hidden, hidden), (hidden,), (num_labels, hidden), (num_labels,))))
    try:
        with np.load(path, allow_pickle=False) as data:
            head = {name: data[name].astype(np.float32) for name in expected}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ArtifactError(f"{path}: unreadable classification head ({exc})") from None
    for name, shape in expected.items():
        if head[name].shape != shape:
            raise ArtifactError(f"{path}: {name} has shape {head[name].shape}, expected {shape}")
    return head


class CT2Engine:
    def __init__(self, artifact, device: str, threads: int | None, compute_type: str | None = None):
        ct2 = _ct2()
        check_format(artifact, (fmt.NAME,), "a CTranslate2 one")
        check_device("ctranslate2", device, devices())
        requested = compute_type or artifact.manifest.quantization
        supported = sorted(ct2.get_supported_compute_types(device))
        if requested not in supported:
            raise DeviceError(
                f"ctranslate2 cannot compute in {requested} on {device}; supported there: "
                f"{', '.join(supported)} (pass one as compute_type, or convert with that --quant)"
            )
        model = artifact.manifest.model
        self._head = read_head(artifact.path / fmt.HEAD_FILE, int(model["hidden_size"]), len(artifact.labels))
        self._pad_id = int(model.get("pad_token_id", 1))
        self._model_path = artifact.path / fmt.MODEL_FILE
        try:
            self._encoder = ct2.Encoder(
                str(artifact.path), device=device, compute_type=requested, intra_threads=threads or 0
            )
        except Exception as exc:  # ctranslate2 raises RuntimeError, ValueError, IndexError... for a bad model.bin
            raise ArtifactError(f"{self._model_path}: ctranslate2 could not load it ({exc})") from None
        self._view = ct2.StorageView.from_array
        self._to_cpu, self._float32 = ct2.Device.cpu, ct2.DataType.float32
        threads_note = f", {threads} threads" if threads else ""
        self.info = EngineInfo(
            NAME, self._encoder.device, self._encoder.compute_type, f"ctranslate2 {ct2.__version__}{threads_note}"
        )

    def logits(self, sequences) -> np.ndarray:
        encoder = opened(self._encoder, NAME)
        ids, lengths = pad_batch(sequences, self._pad_id)
        ids = np.ascontiguousarray(ids, dtype=np.int32)
        # `lengths` keeps the padding out of attention.
        hidden = encoder.forward_batch(self._view(ids), self._view(lengths)).last_hidden_state
        if hidden.dtype != self._float32:
            hidden = hidden.to(self._float32)
        if self.info.device != "cpu":
            hidden = hidden.to_device(self._to_cpu)
        logits = classifier_head(np.asarray(hidden)[:, 0], self._head)
        if not np.isfinite(logits).all():
            # CT2 checks model.bin's structure, not its weight bytes: damaged weights surface here.
            raise ArtifactError(
                f"{self._model_path}: the encoder produced NaN or infinite values; the file is probably damaged"
                + (" or float16 overflowed" if "16" in self.info.precision else "")
            )
        return logits

    def close(self) -> None:
        if self._encoder is not None:
            self._encoder.unload_model()
            self._encoder = None


def open_engine(artifact, device: str, threads: int | None = None, compute_type: str | None = None) -> CT2Engine:
    return CT2Engine(artifact, device, threads, compute_type)


def capabilities() -> dict:
    """For `crest-edge doctor`: compute types per device, and the SIMD dispatch CT2 will use."""
    import os

    ct2 = _ct2()
    forced = os.environ.get("CT2_FORCE_CPU_ISA")
    return {
        "compute_types": {d: sorted(ct2.get_supported_compute_types(d)) for d in devices()},
        "cpu_isa": f"forced {forced}" if forced else "best available (run-time dispatch)",
    }
