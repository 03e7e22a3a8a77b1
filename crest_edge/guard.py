"""Guard: the one object an app uses. Tokenizes, windows, batches, and turns logits into verdicts
the same way whatever engine runs underneath."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from . import cpu
from .cpu import force_cpu_isa
from .formats.artifact import open_artifact
from .log import log
from .selection import resolve_device, resolve_engine
from .verdict import Verdict, decide, deciding_window
from .windows import POLICIES, fit

_SURROGATES = re.compile("[\ud800-\udfff]")


class Guard:
    def __init__(
        self, engine, tokenizer, artifact, threshold: float = 0.5, long_text: str = "windows", batch_size: int = 32
    ):
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
        if long_text not in POLICIES:
            raise ValueError(f"long_text must be one of {', '.join(POLICIES)}, got {long_text!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.engine = engine
        self.tokenizer = tokenizer
        self.artifact = artifact
        self.labels = artifact.labels
        self.max_length = artifact.max_length
        self.threshold = threshold
        self.long_text = long_text
        self.batch_size = batch_size

    @classmethod
    def load(
        cls,
        path=None,
        *,
        engine: str = "auto",
        device: str = "auto",
        threads: int | None = None,
        threshold: float = 0.5,
        long_text: str = "windows",
        batch_size: int = 32,
        cpu_isa: str | None = None,
        **engine_options,
    ) -> Guard:
        """Open a checkpoint or artifact (default: the bundled demo model) on the best or the asked device.

        `cpu_isa` forces a lower SIMD level where the engine allows it (CTranslate2: AVX2, AVX, ...),
        e.g. to test the code path older laptops will run. `engine_options` go to the engine
        adapter (e.g. compute_type for CTranslate2).
        """
        from .runtimes import adapter

        if path is None:
            from .demo import demo_path

            path = demo_path()
            log.warning("no model given: using the bundled demo model (not CREST)")
        artifact = open_artifact(path)
        engine_name = resolve_engine(artifact.format, engine)
        if cpu_isa:
            force_cpu_isa(engine_name, cpu_isa)
        module = adapter(engine_name)
        chosen = resolve_device(engine_name, device, module.devices())
        # The engine first: a loading engine is at its memory peak (llama.cpp pre-faults the whole
        # file, then gives back what it will not need), so the tokenizer is not held during it.
        runner = module.open_engine(artifact, chosen, threads, **engine_options)
        try:
            tokenizer = artifact.tokenizer()
        except BaseException:
            runner.close()
            raise
        log.info("crest-edge: %s; artifact %s; CPU ISA %s", runner.info.describe(), artifact.path, cpu.cpu_isa())
        return cls(runner, tokenizer, artifact, threshold, long_text, batch_size)

    @property
    def info(self):
        return self.engine.info

    def token_ids(self, text: str) -> list[int]:
        """The full id sequence for `text` (<s> and </s> included), before windowing."""
        return [self.tokenizer.bos_id, *self._pieces(text), self.tokenizer.eos_id]

    def classify(self, text: str) -> Verdict:
        return self.classify_batch([text])[0]

    def classify_batch(self, texts: Sequence[str]) -> list[Verdict]:
        pieces = [self._pieces(t) for t in _checked(texts)]
        sequences, owner = self._windows(pieces)
        window_logits = self._run(sequences)
        return [
            decide(window_logits[owner == i], self.labels, self.threshold, len(p) + 2) for i, p in enumerate(pieces)
        ]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw logits per text, float32 [n, num_labels]; for a windowed text, those of its most unsafe window."""
        pieces = [self._pieces(t) for t in _checked(texts)]
        sequences, owner = self._windows(pieces)
        window_logits = self._run(sequences)
        out = np.zeros((len(pieces), len(self.labels)), dtype=np.float32)
        for i in range(len(pieces)):
            mine = window_logits[owner == i]
            out[i] = mine[deciding_window(mine, self.labels)]
        return out

    def close(self) -> None:
        self.engine.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _pieces(self, text: str) -> list[int]:
        return self.tokenizer.encode(_SURROGATES.sub("\ufffd", text))

    def _windows(self, pieces: list[list[int]]) -> tuple[list[list[int]], np.ndarray]:
        sequences, owner = [], []
        for i, p in enumerate(pieces):
            fitted = fit(p, self.max_length, self.long_text)
            sequences.extend(fitted)
            owner.extend([i] * len(fitted))
        return sequences, np.asarray(owner, dtype=np.int64)

    def _run(self, sequences: list[list[int]]) -> np.ndarray:
        """Logits for every sequence, run in length-sorted chunks so padding stays small."""
        out = np.zeros((len(sequences), len(self.labels)), dtype=np.float32)
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self.engine.logits([sequences[i] for i in chunk])
        return out


def _checked(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("classify_batch takes a list of strings, not one string; use classify(text)")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {i} is {type(text).__name__}, expected str")
    return texts
