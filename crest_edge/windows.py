"""Fitting token ids into the model's 512-token limit.

`windows` (default) splits long input into overlapping windows so unsafe text at the end of a
long prompt is still seen; `head` keeps the start; `head_tail` keeps the start and the end.
"""

from __future__ import annotations

from .tokenizer.vocab import BOS_ID, EOS_ID

POLICIES = ("windows", "head", "head_tail")


def fit(pieces: list[int], max_length: int, policy: str = "windows", stride: int | None = None) -> list[list[int]]:
    """Complete id sequences (<s> ... </s>), each at most `max_length` long, for one text.

    `stride` is how far each window moves (default: 3/4 of the window, i.e. 25% overlap).
    """
    room = max_length - 2
    if len(pieces) <= room:
        return [[BOS_ID, *pieces, EOS_ID]]
    if policy == "head":
        return [[BOS_ID, *pieces[:room], EOS_ID]]
    if policy == "head_tail":
        head = room // 2
        return [[BOS_ID, *pieces[:head], *pieces[len(pieces) - (room - head) :], EOS_ID]]
    _check(policy)
    return [[BOS_ID, *pieces[s : s + room], EOS_ID] for s in _starts(len(pieces), room, stride)]


def count(pieces: int, max_length: int, policy: str = "windows", stride: int | None = None) -> int:
    """How many sequences `fit` makes for a text of `pieces` pieces, without building them (a batcher
    sizes its engine calls with it before the ids exist)."""
    room = max_length - 2
    if pieces <= room or policy in ("head", "head_tail"):
        return 1
    _check(policy)
    return len(_starts(pieces, room, stride))


def _starts(pieces: int, room: int, stride: int | None) -> list[int]:
    step = stride or max(1, room * 3 // 4)
    return list(range(0, pieces - room, step)) + [pieces - room]


def _check(policy: str) -> None:
    if policy != "windows":
        raise ValueError(f"unknown long-text policy {policy!r}; choose from {', '.join(POLICIES)}")
