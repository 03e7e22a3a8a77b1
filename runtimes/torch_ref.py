"""The fp32 reference: XLMRobertaForSequenceClassification through transformers, as the model card runs it."""

from __future__ import annotations

import threading

import numpy as np

from crest_edge.errors import ArtifactError
from crest_edge.extras import require

from .base import EngineInfo, check_device, opened, pad_batch

NAME = "torch"


def devices() -> list[str]:
    torch = require("torch", "the fp32 reference")
    found = ["cuda"] if torch.cuda.is_available() else []
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        found.append("metal")
    return found + ["cpu"]


class TorchEngine:
    def __init__(self, artifact, device: str, threads: int | None):
        torch = require("torch", "the fp32 reference")
        transformers = require("transformers", "the fp32 reference")
        check_device("torch", device, devices())
        transformers.utils.logging.disable_progress_bar()
        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self._device = {"metal": "mps"}.get(device, device)
        try:
            model = transformers.XLMRobertaForSequenceClassification.from_pretrained(
                str(artifact.path), local_files_only=True, dtype=torch.float32
            )
        except Exception as exc:  # transformers raises OSError/ValueError/RuntimeError on bad weights
            raise ArtifactError(f"{artifact.path}: transformers could not load it ({exc})") from None
        self._model = model.eval().to(self._device)
        self._pad_id = artifact.checkpoint.pad_id
        self._lock = threading.Lock()
        self.info = EngineInfo(NAME, device, "float32", f"torch {torch.__version__}")

    def logits(self, sequences) -> np.ndarray:
        ids, lengths = pad_batch(sequences, self._pad_id)
        mask = (np.arange(ids.shape[1])[None, :] < lengths[:, None]).astype(np.int64)
        torch = self._torch
        with self._lock, torch.inference_mode():
            out = opened(self._model, NAME)(
                input_ids=torch.from_numpy(ids).to(self._device),
                attention_mask=torch.from_numpy(mask).to(self._device),
            ).logits
        return out.float().cpu().numpy()

    def close(self) -> None:
        self._model = None


def open_engine(artifact, device: str, threads: int | None = None) -> TorchEngine:
    return TorchEngine(artifact, device, threads)


def capabilities() -> dict:
    return {"compute_types": {d: ["float32"] for d in devices()}, "role": "fp32 reference"}
