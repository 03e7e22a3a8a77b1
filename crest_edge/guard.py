"""Guard: the one object an app uses. Tokenizes, windows, batches, and turns logits into verdicts
the same way whatever engine runs underneath."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from . import cpu
from .cpu import force_cpu_isa
from .errors import ArtifactError, ClosedError, EngineError
from .formats.artifact import open_artifact
from .formats.integrity import VERIFY_MODES
from .log import log
from .selection import check_batch_size, check_threads, resolve_device, resolve_engine
from .stream import DEFAULT_EVERY, DEFAULT_OVERLAP, Stream
from .trim.coverage import DEFAULT_THRESHOLD, Coverage, check_policy
from .verdict import ON_ERROR, Verdict, decide, deciding_window, on_error_verdict
from .windows import POLICIES, fit

_SURROGATES = re.compile("[\ud800-\udfff]")


class Guard:
    def __init__(
        self,
        engine,
        tokenizer,
        artifact,
        threshold: float = 0.5,
        long_text: str = "windows",
        batch_size: int = 32,
        on_error: str = "raise",
        on_outside: str = "block",
        outside_threshold: float = DEFAULT_THRESHOLD,
    ):
        _check_options(threshold, long_text, batch_size, on_error)
        check_policy(on_outside, outside_threshold)
        self.engine = engine
        self.tokenizer = tokenizer
        self.artifact = artifact
        self.labels = artifact.labels
        self.max_length = artifact.max_length
        self.threshold = threshold
        self.long_text = long_text
        self.batch_size = batch_size
        self.on_error = on_error
        record = getattr(artifact, "trim", None)
        self.coverage = Coverage(record, tokenizer, on_outside, outside_threshold) if record else None
        self._closed = False

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
        on_error: str = "raise",
        on_outside: str = "block",
        outside_threshold: float = DEFAULT_THRESHOLD,
        verify: str = "full",
        cpu_isa: str | None = None,
        **engine_options,
    ) -> Guard:
        """Open a checkpoint or artifact (default: the bundled demo model) on the best or the asked device.

        `on_error` is what a text gets when the engine fails on it: "raise" (default), "block" or
        "allow" (see crest_edge.verdict). `verify` checks the artifact's integrity record: "full" reads
        every byte (default), "cached" trusts a recent verification of an unchanged file (see
        crest_edge.formats.integrity). `on_outside` ("block" by default, "report" or "raise") is what a
        trimmed model does with a text more than `outside_threshold` outside its kept vocabulary (see
        crest_edge.trim.coverage). `cpu_isa` forces a lower SIMD level where the engine allows
        it (CTranslate2: AVX2, AVX, ...), e.g. to test the code path older laptops will run.
        `engine_options` go to the engine adapter (e.g. compute_type for CTranslate2).
        """
        from .runtimes import adapter

        _check_options(threshold, long_text, batch_size, on_error)
        check_policy(on_outside, outside_threshold)
        threads = check_threads(threads)

        if path is None:
            from .demo import demo_path

            path = demo_path()
            log.warning("no model given: using the bundled demo model (not CREST)")
        if verify not in VERIFY_MODES:
            raise ValueError(f"verify must be one of {', '.join(VERIFY_MODES)}, got {verify!r}")
        artifact = open_artifact(path, verify=verify)
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
        try:
            return cls(
                runner, tokenizer, artifact, threshold, long_text, batch_size, on_error, on_outside, outside_threshold
            )
        except BaseException:
            runner.close()
            raise

    @property
    def info(self):
        return self.engine.info

    def token_ids(self, text: str) -> list[int]:
        """The full id sequence for `text` (<s> and </s> included), before windowing."""
        return [self.tokenizer.bos_id, *self._pieces(text), self.tokenizer.eos_id]

    def classify(self, text: str) -> Verdict:
        return self.classify_batch([text])[0]

    def classify_batch(self, texts: Sequence[str]) -> list[Verdict]:
        texts = _checked(texts)
        pieces = [self._pieces(t) for t in texts]
        outside = self.coverage.check(texts) if self.coverage else None
        verdicts = self._verdicts(pieces)
        if outside is not None:
            verdicts = [self.coverage.apply(v, share, self.labels) for v, share in zip(verdicts, outside)]
        return verdicts

    def stream(
        self,
        *,
        every: int | None = DEFAULT_EVERY,
        overlap: int = DEFAULT_OVERLAP,
        at_sentence_end: bool = True,
        long_text: str | None = None,
        rescore: bool = False,
    ) -> Stream:
        """A moderation stream for text that arrives in chunks (an LLM's answer as it is generated):
        `feed(chunk)`, `verdict`, `close()`. A check runs every `every` new tokens (None: never)
        and, with `at_sentence_end`, when a sentence ends; each check also rereads the `overlap` tokens before
        the new ones. `close()` gives what `classify(whole_text)` gives (`long_text`: this Guard's
        policy unless given). See crest_edge.stream."""
        return Stream(self, every, overlap, at_sentence_end, long_text or self.long_text, rescore)

    def _verdicts(self, pieces: list[list[int]], long_text: str | None = None) -> list[Verdict]:
        """One verdict per text from its piece ids (without <s> and </s>), before any trim coverage."""
        sequences, owner = self._windows(pieces, long_text or self.long_text)
        window_logits, errors = self._run(sequences, isolate=self.on_error != "raise")
        ran_ok = np.ones(len(owner), dtype=bool)
        ran_ok[list(errors)] = False
        verdicts = []
        for i, p in enumerate(pieces):
            mine = owner == i
            failed = [errors[k] for k in np.flatnonzero(mine & ~ran_ok)]
            if failed:
                ran = window_logits[mine & ran_ok]
                verdicts.append(
                    on_error_verdict(
                        self.on_error, failed[0], self.labels, self.threshold, len(p) + 2, int(mine.sum()), ran
                    )
                )
            else:
                verdicts.append(decide(window_logits[mine], self.labels, self.threshold, len(p) + 2))
        return verdicts

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw logits per text, float32 [n, num_labels]; for a windowed text, those of its most unsafe window.
        An engine failure always raises here, whatever `on_error` says: there are no logits to give."""
        pieces = [self._pieces(t) for t in _checked(texts)]
        sequences, owner = self._windows(pieces, self.long_text)
        window_logits, _ = self._run(sequences, isolate=False)
        out = np.zeros((len(pieces), len(self.labels)), dtype=np.float32)
        for i in range(len(pieces)):
            mine = window_logits[owner == i]
            out[i] = mine[deciding_window(mine, self.labels)]
        return out

    def close(self) -> None:
        """Release the engine. Any later call raises ClosedError."""
        if not self._closed:
            self._closed = True
            self.engine.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _pieces(self, text: str) -> list[int]:
        if self._closed:
            raise ClosedError(f"this Guard ({self.artifact.path}) is closed")
        return self.tokenizer.encode(_SURROGATES.sub("\ufffd", text))

    def _windows(self, pieces: list[list[int]], long_text: str) -> tuple[list[list[int]], np.ndarray]:
        sequences, owner = [], []
        for i, p in enumerate(pieces):
            fitted = fit(p, self.max_length, long_text)
            sequences.extend(fitted)
            owner.extend([i] * len(fitted))
        return sequences, np.asarray(owner, dtype=np.int64)

    def _run(self, sequences: list[list[int]], isolate: bool) -> tuple[np.ndarray, dict[int, str]]:
        """Logits for every sequence, run in length-sorted chunks so padding stays small, and the
        error of each sequence that failed. Failing means raising or giving non-finite scores; with
        `isolate`, a failed chunk is retried one sequence at a time so one bad text does not fail its
        neighbours; without, the first failure raises."""
        out = np.zeros((len(sequences), len(self.labels)), dtype=np.float32)
        errors: dict[int, str] = {}
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            try:
                out[chunk] = self._scores([sequences[i] for i in chunk])
            except (ArtifactError, EngineError) as exc:
                if not isolate:
                    raise
                for i in chunk if len(chunk) > 1 else ():
                    try:
                        out[i] = self._scores([sequences[i]])[0]
                    except (ArtifactError, EngineError) as single:
                        errors[i] = str(single)
                if len(chunk) == 1:
                    errors[chunk[0]] = str(exc)
        return out, errors

    def _scores(self, sequences: list[list[int]]) -> np.ndarray:
        """The engine's logits, or ArtifactError (non-finite scores: a damaged model) / EngineError."""
        try:
            logits = np.asarray(self.engine.logits(sequences), dtype=np.float32)
        except (ArtifactError, ClosedError):
            raise
        except Exception as exc:  # whatever an engine raises mid-call is an engine failure
            raise EngineError(f"{self.artifact.path}: {self.info.engine} failed: {type(exc).__name__}: {exc}") from exc
        if logits.shape != (len(sequences), len(self.labels)):
            raise EngineError(f"{self.artifact.path}: {self.info.engine} returned logits of shape {logits.shape}")
        if not np.isfinite(logits).all():
            raise ArtifactError(
                f"{self.artifact.path}: the model scored NaN or infinity; the artifact is probably damaged"
                + (" (or its 16-bit arithmetic overflowed)" if "16" in self.info.precision else "")
            )
        return logits


def _check_options(threshold, long_text: str, batch_size, on_error: str) -> None:
    if not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
    if long_text not in POLICIES:
        raise ValueError(f"long_text must be one of {', '.join(POLICIES)}, got {long_text!r}")
    check_batch_size(batch_size)
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")


def _checked(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("classify_batch takes a list of strings, not one string; use classify(text)")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {i} is {type(text).__name__}, expected str")
    return texts
