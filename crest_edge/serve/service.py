"""The model behind the endpoints: loading and readiness, the batcher, the failure policy, /info."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from ..demo import DEMO_DIR, DEMO_NAME
from ..errors import CrestEdgeError
from ..version import __version__
from ..windows import count
from .batcher import MicroBatcher, QueueFull
from .metrics import Metrics
from .policy import Outcome, resolve, run_texts
from .settings import Settings

log = logging.getLogger(__name__)


class NotReady(Exception):
    """The model is still loading (or failed to): answer 503."""


class Service:
    """Owns the guard when it loads it (from a loader callable); borrows a Guard it is given."""

    def __init__(self, guard, settings: Settings, metrics: Metrics):
        self.settings, self.metrics = settings, metrics
        self._loader: Callable | None = guard if callable(guard) else None
        self.guard = None if self._loader else guard
        # the `model` of every response: --model-name, else the demo's name or the artifact's file name
        self.model_name = settings.model_name or _name_of(guard.artifact.path if self.guard else settings.model)
        self.state = "loading"
        self.load_error: str | None = None
        self.batcher: MicroBatcher | None = None
        self.on_loaded: Callable[[], None] = lambda: None  # called on the loading thread
        # serve() replaces it: it stops the server and reports the error as the command's one line
        self.on_failed: Callable[[str], None] = lambda error: log.error("cannot load the model: %s", error)
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        if self.guard is not None:
            self._attach(self.guard)
        else:
            self._thread = threading.Thread(target=self._load, name="crest-edge-load", daemon=True)
            self._thread.start()

    def _load(self) -> None:
        try:
            guard = self._loader()
        except Exception as exc:  # reported as one line; the server then stops
            self.load_error = str(exc) if isinstance(exc, CrestEdgeError) else f"{type(exc).__name__}: {exc}"
            self.state = "failed"
            self.on_failed(self.load_error)
            return
        self.guard = guard
        self.model_name = self.settings.model_name or _name_of(guard.artifact.path)
        self._attach(guard)
        self.on_loaded()

    def _attach(self, guard) -> None:
        s = self.settings
        self.batcher = MicroBatcher(
            lambda texts, want: run_texts(guard, texts, want),
            lambda text: _counted(guard, text),
            max_batch_tokens=s.max_batch_tokens,
            max_wait_s=s.max_wait_ms / 1000,
            capacity=s.queue,
            max_rows=guard.batch_size,
            max_length=guard.max_length,
            on_batch=self.metrics.observe_batch,
        )
        self.metrics.queue_depth.set_function(lambda: self.batcher.depth)
        self.batcher.start()
        self.state = "ready"
        self.metrics.ready.set(1)

    def close(self) -> None:
        """Answer every admitted text, stop the worker, and close the guard if it is ours."""
        if self._thread is not None:
            self._thread.join()
        if self.batcher is not None:
            self.batcher.close()
        if self._loader is not None and self.guard is not None:
            self.guard.close()

    # -- requests -------------------------------------------------------------------------------

    async def classify(self, texts: Sequence[str], want_logits: bool = False) -> list[Outcome]:
        """One outcome per text, with a verdict per the failure policy (EngineFailed under `error`)."""
        if self.state != "ready":
            self.metrics.errors.labels("rejected").inc()
            raise NotReady(
                f"the model failed to load: {self.load_error}" if self.load_error else "the model is loading"
            )
        try:
            outcomes = await self.batcher.submit(texts, want_logits)
        except QueueFull:
            self.metrics.errors.labels("rejected").inc()
            raise
        failed = sum(o.error is not None for o in outcomes)
        if failed:
            self.metrics.errors.labels("engine").inc(failed)
        resolved = resolve(outcomes, self.settings.on_error, self.guard.labels)
        for outcome in resolved:
            self.metrics.texts.labels(outcome.verdict.label).inc()
        return resolved

    def info(self) -> dict:
        s, g = self.settings, self.guard
        limits = {
            "max_inputs": s.max_inputs,
            "max_body_bytes": s.max_body_bytes,
            "queue": s.queue,
            "max_batch_tokens": s.max_batch_tokens,
            "max_wait_ms": s.max_wait_ms,
            "max_batch_rows": g.batch_size if g else None,
        }
        base = {"model": self.model_name, "state": self.state, "on_error": s.on_error, "limits": limits}
        if g is None:
            return {**base, "error": self.load_error}
        artifact, engine = g.artifact, g.info
        manifest = artifact.manifest
        return {
            **base,
            "path": str(artifact.path),
            "format": artifact.format,
            "quantization": artifact.precision,
            "engine": engine.engine,
            "device": engine.device,
            "precision": engine.precision,
            "detail": engine.detail,
            "labels": list(g.labels),
            "max_length": g.max_length,
            "threshold": g.threshold,
            "long_text": g.long_text,
            "parity": manifest.parity if manifest else None,
            "crest_edge": __version__,
        }


def _name_of(path) -> str:
    path = Path(path or DEMO_DIR)
    if path.resolve() == DEMO_DIR.resolve():
        return DEMO_NAME
    return path.stem if path.suffix == ".gguf" else path.name


def _counted(guard, text: str) -> tuple[int, int]:
    tokens = len(guard.token_ids(text))  # <s> and </s> included
    return tokens, count(tokens - 2, guard.max_length, guard.long_text)
