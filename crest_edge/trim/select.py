"""Which sentencepiece pieces a trimmed model keeps.

Always: every piece that is not NORMAL (unknown, control, user-defined, byte), and the lowest-scored
piece, so the unknown-piece penalty (lowest score - 10, in sentencepiece and tokenizers alike) is
unchanged and a text whose pieces are all kept tokenizes exactly as before. Then the union of:
- `script`: every piece whose characters all belong to the served languages' scripts (or to Common /
  Inherited: digits, punctuation, symbols, combining marks). The model's own vocabulary stands for
  the languages; no outside corpus or frequency list is involved.
- single characters: every one-character piece of a served script (languages' or corpora's), so no
  character of a served script that the model knew becomes `<unk>`.
- `corpus`: every piece the untrimmed tokenizer uses at least `min_count` times on the user's corpora.
- `keep`: the N highest-scored NORMAL pieces (a unigram model's score is its log-probability: the
  model's own frequency estimate).
"""

from __future__ import annotations

import bisect
from collections import Counter

from ..tokenizer.proto import NORMAL

META = "\u2581"


class Ranges:
    """Membership in sorted inclusive code point ranges."""

    def __init__(self, ranges):
        self._starts = [a for a, _ in ranges]
        self._ends = [b for _, b in ranges]
        self._seen: dict[str, bool] = {}

    def __contains__(self, char: str) -> bool:
        found = self._seen.get(char)
        if found is None:
            code = ord(char)
            i = bisect.bisect_right(self._starts, code) - 1
            found = self._seen[char] = i >= 0 and code <= self._ends[i]
        return found


def _body(piece: str) -> str:
    return piece.replace(META, "")


def choose_pieces(
    pieces: list[str],
    scores: list[float],
    types: list[int],
    *,
    whole_scripts: Ranges | None,
    served: Ranges,
    counts: Counter | None = None,
    min_count: int = 1,
    keep: int = 0,
) -> tuple[list[int], dict[str, int]]:
    """Sorted indices of the kept pieces, and how many each rule selected (a piece can count twice)."""
    normal = [i for i, t in enumerate(types) if t == NORMAL]
    chosen = {i for i, t in enumerate(types) if t != NORMAL}
    tally = {"special": len(chosen)}
    if normal:
        chosen.add(min(normal, key=lambda i: scores[i]))

    def add(rule: str, indices) -> None:
        indices = list(indices)
        tally[rule] = len(indices)
        chosen.update(indices)

    if whole_scripts is not None:
        add("script", (i for i in normal if all(c in whole_scripts for c in _body(pieces[i]))))
    add("single_character", (i for i in normal if len(_body(pieces[i])) == 1 and _body(pieces[i]) in served))
    if counts is not None:
        add("corpus", (i for i in normal if counts.get(i, 0) >= min_count))
    if keep:
        add("keep", sorted(normal, key=lambda i: -scores[i])[:keep])
    return sorted(chosen), tally
