"""Logits to verdicts: softmax, threshold, and the max-p(unsafe) rule across windows.

The decision rule, written once (Guard, parity, tests and the GPU check all use it): a text is
unsafe when p(unsafe) >= threshold; otherwise it gets the likeliest other label.

When the engine fails on a text (it raised, or gave NaN or infinite scores), the `on_error` policy
decides, never the missing score: "raise" (the default) raises; "block" gives the text the unsafe
label with score 1.0; "allow" decides from the text's windows that did run, or, if none did, gives
the safe label with score 0.0. Either way the verdict carries the `error`.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Verdict:
    label: str  # the decided label ("safe" / "unsafe" for CREST)
    score: float  # p(unsafe): of the most unsafe window when the text was split
    probs: dict[str, float]  # per label, from the window that decided the score
    tokens: int  # length of the full id sequence, <s> and </s> included, before windowing
    windows: int  # how many windows were classified (1 unless the text was long)
    error: str | None = None  # set when the engine failed on this text and `on_error` decided
    outside: float | None = None  # trimmed models only: share of the text outside the kept vocabulary

    def to_dict(self) -> dict:
        """A JSON-ready dict; `error` and `outside` only when set."""
        out = dataclasses.asdict(self)
        for key in ("error", "outside"):
            if out[key] is None:
                del out[key]
        return out


ON_ERROR = ("raise", "block", "allow")


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def unsafe_index(labels: list[str]) -> int:
    """The label whose probability is the score: 'unsafe' by name, else the last label."""
    lowered = [label.lower() for label in labels]
    return lowered.index("unsafe") if "unsafe" in lowered else len(labels) - 1


def decide_labels(probs: np.ndarray, positive: int, threshold: float) -> np.ndarray:
    """Label index per row of `probs` [n, labels]: `positive` when its probability reaches the
    threshold, else the likeliest other label."""
    others = np.array(probs, dtype=np.float64, copy=True)
    others[:, positive] = -np.inf
    return np.where(probs[:, positive] >= threshold, positive, others.argmax(axis=1))


def p_unsafe(logits: np.ndarray, labels: list[str]) -> np.ndarray:
    """p(unsafe) per row of raw logits [n, labels]."""
    return softmax(np.asarray(logits, dtype=np.float64))[:, unsafe_index(labels)]


def deciding_window(window_logits: np.ndarray, labels: list[str]) -> int:
    """Index of the most unsafe window: a guardrail must not miss unsafe text anywhere in a long input."""
    return int(np.argmax(softmax(window_logits.astype(np.float64))[:, unsafe_index(labels)]))


def decide(window_logits: np.ndarray, labels: list[str], threshold: float, tokens: int) -> Verdict:
    """One verdict from the logits of a text's windows: the most unsafe window decides."""
    probs = softmax(window_logits.astype(np.float64))
    positive = unsafe_index(labels)
    worst = deciding_window(window_logits, labels)
    score = float(probs[worst, positive])
    label = labels[int(decide_labels(probs[worst : worst + 1], positive, threshold)[0])]
    return Verdict(label, score, {name: float(p) for name, p in zip(labels, probs[worst])}, tokens, len(probs))


def on_error_verdict(
    policy: str, error: str, labels: list[str], threshold: float, tokens: int, windows: int, ran=None
) -> Verdict:
    """The verdict of a text the engine failed on (see the module docstring); `ran` holds the logits
    of its windows that did run, if any."""
    positive = unsafe_index(labels)
    if policy == "allow" and ran is not None and len(ran):
        return dataclasses.replace(decide(ran, labels, threshold, tokens), windows=windows, error=error)
    if policy == "block":
        chosen, score = positive, 1.0
    elif policy == "allow":
        chosen, score = next(i for i in range(len(labels)) if i != positive), 0.0
    else:
        raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, got {policy!r}")
    probs = {name: float(i == chosen) for i, name in enumerate(labels)}
    return Verdict(labels[chosen], score, probs, tokens, windows, error)
