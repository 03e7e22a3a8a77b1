"""Moderating text while it streams in (an LLM's answer as it is generated): `Guard.stream()`.

    stream = guard.stream()
    for chunk in llm_output:
        verdict = stream.feed(chunk)  # a Verdict when a check ran, else None
        if verdict is not None and verdict.label == "unsafe":
            stop_generating()
            break
    final = stream.close()  # == guard.classify(whole_text)

- **Tokens as they arrive.** Chunks are tokenized as they come, exactly as the whole text would be,
  whatever the cuts (mid-word, mid-grapheme, one character at a time, empty chunks): see
  `tokenizer.incremental`. Nothing settled is tokenized twice.
- **Checks.** Every `every` new tokens (None: only at sentence ends), and with `at_sentence_end`
  whenever a chunk ends a sentence, a check classifies one window: the settled tokens since the
  last check, the `overlap` settled tokens before them, and the provisional tokens of the still-open
  word. Consecutive checks share `overlap`
  settled tokens, so any span of at most `overlap` tokens lies whole inside some checked window,
  wherever the chunks were cut; a chunk too large for one window is checked in several.
- **Verdict.** As in `classify`, the most unsafe window seen so far decides: once the stream is
  flagged it stays flagged. `verdict` is the latest (its `tokens`: those received so far, <s> and
  </s> included; `windows`: how many were scored so far); `checks` lists every window scored.
- **close() is classify(whole_text)** with the stream's long-text policy: the same token ids, the
  same windows (`windows.window_spans`), the same decision and `on_error` rule. Each window of that
  set is scored alone as soon as its tokens are settled, the last one at close, so no check scores
  more than one window. Engines whose scores do not depend on batch neighbours (CTranslate2 int8,
  llama.cpp: measured bit for bit) give classify's verdict bit for bit. transformers and ONNX Runtime
  score a window alone slightly differently than inside classify's batch (fp32: ~1e-6 in a logit;
  ONNX int8's per-batch activation scales: up to 0.035), the same effect `classify_batch` has on a
  text with other neighbours; `rescore=True` scores the windows at close exactly as classify batches
  them (bit for bit on every engine, at classify's cost).
- **Trimmed models** (`crest-edge trim`): every verdict carries `outside` and its policy, as in
  classify, measured over the text received so far; close()'s over the whole text.
- **Threads.** One Guard serves many streams at once, each in its own thread; a stream belongs to one
  thread: using it from two at once raises RuntimeError, feeding it after close raises ClosedError.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading

import numpy as np

from .errors import ArtifactError, ClosedError, EngineError
from .tokenizer.incremental import IncrementalEncoder
from .tokenizer.vocab import BOS_ID, EOS_ID, SPM_FILE
from .tokenizer.xlmr import XLMRTokenizer
from .trim.coverage import RunningShare
from .verdict import Verdict, decide, on_error_verdict, p_unsafe
from .windows import POLICIES, window_spans, window_step

DEFAULT_EVERY = 32
DEFAULT_OVERLAP = 64
# sentence-final punctuation of the scripts in the parity corpus (Latin, CJK full-width, Arabic,
# Urdu, Devanagari danda, Ethiopic), and a line break
_SENTENCE_END = re.compile("[.!?\n\u2026\u3002\uff01\uff1f\uff0e\u061f\u06d4\u0964\u0965\u1362]")
_TRIM = 4096  # settled ids no window can need any more are dropped in steps of at least this many


@dataclasses.dataclass(frozen=True)
class Check:
    """One window a stream scored: settled tokens [start, end) (0-based, without <s>), then `pending`
    provisional tokens of the still-open text. `kind`: "check" (a periodic check), "window" (a window
    of close()'s set, scored once its tokens settled) or "final" (scored at close)."""

    kind: str
    start: int
    end: int
    pending: int
    score: float | None  # p(unsafe); None when the engine failed on it, or rescored in close()'s batch


class Stream:
    """See the module docstring. Made by `Guard.stream()`."""

    def __init__(self, guard, every: int | None, overlap: int, at_sentence_end: bool, long_text: str, rescore: bool):
        room = guard.max_length - 2
        _check_options(every, overlap, at_sentence_end, long_text, rescore, room)
        if not isinstance(guard.tokenizer, XLMRTokenizer):
            raise ArtifactError(
                f"{guard.artifact.path}: streaming needs the sentencepiece model ({SPM_FILE}); "
                "this checkpoint's tokenizer is tokenizer.json only"
            )
        self._guard = guard
        self._coverage = guard.coverage  # a trimmed model: the share of text outside what it serves
        self._outside = RunningShare() if self._coverage else None
        on_text = (lambda part: self._outside.add(self._coverage.flags(part))) if self._coverage else None
        self._encoder = IncrementalEncoder(guard.tokenizer, on_text)
        self._every, self._overlap, self._at_sentence_end = every, overlap, at_sentence_end
        self._long_text, self._rescore = long_text, rescore
        self._room = room
        self._step = window_step(guard.max_length)
        self._ids: list[int] = []  # settled ids from position self._first on
        self._first = 0
        self._settled = 0
        self._head: list[int] = []  # the first `room` settled ids (head and head_tail read them)
        self._next_window = 0  # start of the next window of close()'s set not scored yet ("windows")
        self._window_scores: dict[tuple, tuple[np.ndarray | None, str | None]] = {}
        self._checked_to = 0  # settled ids up to here are inside a checked window
        self._tokens_at_check = 0
        self._worst: np.ndarray | None = None  # logits of the most unsafe window scored so far
        self._worst_score = -1.0
        self._scored = 0
        self._error: str | None = None
        self._checks: list[Check] = []
        self._verdict: Verdict | None = None
        self._closed = False
        self._busy = threading.Lock()

    @property
    def verdict(self) -> Verdict | None:
        """The latest verdict: None before the first check, close()'s once closed."""
        return self._verdict

    @property
    def checks(self) -> tuple[Check, ...]:
        return tuple(self._checks)

    @property
    def tokens(self) -> int:
        """Settled tokens so far (without <s> and </s>)."""
        return self._settled

    @property
    def closed(self) -> bool:
        return self._closed

    def feed(self, chunk: str) -> Verdict | None:
        """Add the next chunk of text; the new verdict when a check ran, else None."""
        if not isinstance(chunk, str):
            raise TypeError(f"feed takes a str, got {type(chunk).__name__}")
        with self._exclusive():
            ran = self._scored
            self._add(self._encoder.feed(chunk))
            if not self._rescore and self._long_text == "windows":
                self._score_settled_windows()
            pending = self._encoder.pending(self._room)
            new = self._settled + len(pending) - self._tokens_at_check
            periodic = self._every is not None and new >= self._every
            if periodic or (new > 0 and self._at_sentence_end and _SENTENCE_END.search(chunk)):
                self._check(pending)
            self._trim()
            if self._scored == ran:
                return None
            self._verdict = self._running(self._settled + len(pending))
            return self._verdict

    def close(self) -> Verdict:
        """The final verdict: classify(whole_text)'s. Closing again returns it again."""
        with self._exclusive(closing=True):
            if self._closed:
                return self._verdict
            self._add(self._encoder.close())
            self._closed = True
            self._verdict = self._covered(self._final(), "the streamed text")
            return self._verdict

    # -- checks ------------------------------------------------------------------------------------
    def _check(self, pending: list[int]) -> None:
        room, overlap, settled = self._room, self._overlap, self._settled
        start = max(0, self._checked_to - overlap)
        while settled - start > room:  # more new settled text than one window: tile it
            self._score("check", start, start + room)
            start += room - overlap
        if settled - start + len(pending) <= room:
            self._score("check", start, settled, pending)
        else:  # a long open run that has not settled yet (no space, paths not converged)
            if settled > self._checked_to:
                self._score("check", start, settled)
            self._score("check", settled, settled, pending[-room:])
        self._checked_to = settled
        self._tokens_at_check = settled + len(pending)

    def _score_settled_windows(self) -> None:
        """Score each window of close()'s set as soon as it is certain to be in it: a window starting
        at k * step is, once more than k * step + room tokens are settled."""
        while self._next_window + self._room < self._settled:
            spans = ((self._next_window, self._next_window + self._room),)
            self._window_scores[spans] = self._score("window", *spans[0])
            self._next_window += self._step

    def _score(self, kind: str, start: int, end: int, pending=(), spans=None) -> tuple[np.ndarray | None, str | None]:
        spans = spans or ((start, end),)
        sequence = [BOS_ID, *(i for a, b in spans for i in self._slice(a, b)), *pending, EOS_ID]
        guard = self._guard
        try:
            logits, error = guard._scores([sequence])[0], None
        except (ArtifactError, EngineError) as exc:
            if guard.on_error == "raise":
                raise
            logits, error = None, str(exc)
        self._scored += 1
        score = None
        if logits is None:
            self._error = self._error or error
        else:
            score = float(p_unsafe(logits[None], guard.labels)[0])
            if score > self._worst_score:
                self._worst, self._worst_score = logits, score
        self._checks.append(Check(kind, start, end, len(pending), score))
        return logits, error

    def _running(self, tokens: int) -> Verdict:
        guard = self._guard
        ran = None if self._worst is None else self._worst[None]
        if self._error is not None:
            verdict = on_error_verdict(
                guard.on_error, self._error, guard.labels, guard.threshold, tokens + 2, self._scored, ran
            )
        else:
            verdict = decide(ran, guard.labels, guard.threshold, tokens + 2)
        return self._covered(dataclasses.replace(verdict, windows=self._scored), "the text so far")

    def _covered(self, verdict: Verdict, what: str) -> Verdict:
        """A trimmed model's verdict with `outside` and its policy, as classify applies them."""
        if self._coverage is None:
            return verdict
        share = self._outside.share
        self._coverage.refuse(share, what)
        return self._coverage.apply(verdict, share, self._guard.labels)

    def _final(self) -> Verdict:
        guard, n = self._guard, self._settled
        if self._rescore:
            for spans in window_spans(n, guard.max_length, self._long_text):
                self._checks.append(Check("final", spans[0][0], spans[-1][1], 0, None))
            return guard._verdicts([self._slice(0, n)], self._long_text)[0]
        logits, errors = [], []
        for spans in window_spans(n, guard.max_length, self._long_text):
            scored = self._window_scores.get(spans)
            if scored is None:
                scored = self._score("final", spans[0][0], spans[-1][1], spans=spans)
            logits.append(scored[0])
            errors.append(scored[1])
        ran = np.array([x for x in logits if x is not None], dtype=np.float32).reshape(-1, len(guard.labels))
        failed = [e for e in errors if e is not None]
        if failed:
            return on_error_verdict(guard.on_error, failed[0], guard.labels, guard.threshold, n + 2, len(logits), ran)
        return decide(ran, guard.labels, guard.threshold, n + 2)

    # -- settled ids -------------------------------------------------------------------------------
    def _add(self, ids: list[int]) -> None:
        if len(self._head) < self._room:
            self._head += ids[: self._room - len(self._head)]
        self._ids += ids
        self._settled += len(ids)

    def _slice(self, start: int, end: int) -> list[int]:
        if end <= len(self._head):
            return self._head[start:end]
        if start < self._first:
            raise AssertionError(f"stream: ids {start}..{end} were dropped (kept from {self._first})")
        return self._ids[start - self._first : end - self._first]

    def _trim(self) -> None:
        """Drop settled ids no window can read any more: before the next check's overlap, the next
        window of close()'s set, and the last `room` (close()'s last window)."""
        if self._rescore:
            return
        keep = min(self._checked_to - self._overlap, self._settled - self._room)
        if self._long_text == "windows":
            keep = min(keep, self._next_window)
        if keep - self._first >= _TRIM:
            del self._ids[: keep - self._first]
            self._first = keep

    # -- misuse --------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _exclusive(self, closing: bool = False):
        if self._closed and not closing:
            raise ClosedError("this stream is closed: feed() after close(); start a new one with guard.stream()")
        if self._guard._closed:
            raise ClosedError(f"the Guard of this stream ({self._guard.artifact.path}) is closed")
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("a stream was used from two threads at once; give each thread its own stream")
        try:
            yield
        finally:
            self._busy.release()


def _check_options(every, overlap, at_sentence_end, long_text, rescore, room: int) -> None:
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        raise ValueError(f"every must be a whole number of tokens >= 1 (or None), got {every!r}")
    if isinstance(overlap, bool) or not isinstance(overlap, int) or not 0 <= overlap < room:
        raise ValueError(f"overlap must be a whole number of tokens from 0 to {room - 1}, got {overlap!r}")
    if not isinstance(at_sentence_end, bool) or not isinstance(rescore, bool):
        raise ValueError("at_sentence_end and rescore must be True or False")
    if every is None and not at_sentence_end:
        raise ValueError("every=None and at_sentence_end=False would check nothing before close()")
    if long_text not in POLICIES:
        raise ValueError(f"long_text must be one of {', '.join(POLICIES)}, got {long_text!r}")
