"""Logits to verdicts: softmax, threshold, and the max-p(unsafe) rule across windows.

The decision rule, written once (Guard, parity, tests and the GPU check all use it): a text is
unsafe when p(unsafe) >= threshold; otherwise it gets the likeliest other label.
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

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


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
