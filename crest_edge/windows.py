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
    return [
        [BOS_ID, *(p for a, b in spans for p in pieces[a:b]), EOS_ID]
        for spans in window_spans(len(pieces), max_length, policy, stride)
    ]


def window_spans(
    pieces: int, max_length: int, policy: str = "windows", stride: int | None = None
) -> list[tuple[tuple[int, int], ...]]:
    """The (start, end) piece ranges each sequence of `fit` takes, for a text of `pieces` pieces: the
    rule itself, for callers that hold the pieces in parts (a stream)."""
    room = max_length - 2
    if pieces <= room:
        return [((0, pieces),)]
    if policy == "head":
        return [((0, room),)]
    if policy == "head_tail":
        head = room // 2
        return [((0, head), (pieces - (room - head), pieces))]
    _check(policy)
    return [((s, s + room),) for s in _starts(pieces, room, stride)]


def window_step(max_length: int, stride: int | None = None) -> int:
    """How far each window moves: every window of a long text starts at a multiple of it, except
    the last, which ends at the text's end."""
    return stride or max(1, (max_length - 2) * 3 // 4)


def count(pieces: int, max_length: int, policy: str = "windows", stride: int | None = None) -> int:
    """How many sequences `fit` makes for a text of `pieces` pieces, without building them (a batcher
    sizes its engine calls with it before the ids exist)."""
    room = max_length - 2
    if pieces <= room or policy in ("head", "head_tail"):
        return 1
    _check(policy)
    return len(_starts(pieces, room, stride))


def _starts(pieces: int, room: int, stride: int | None) -> list[int]:
    step = window_step(room + 2, stride)
    return list(range(0, pieces - room, step)) + [pieces - room]


def _check(policy: str) -> None:
    if policy != "windows":
        raise ValueError(f"unknown long-text policy {policy!r}; choose from {', '.join(POLICIES)}")
