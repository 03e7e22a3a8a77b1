"""Tokenizing text that arrives in chunks: exactly the ids `XLMRTokenizer.encode(whole_text)` gives,
settled as the text grows, without ever re-tokenizing what is settled.

The tokenization of a prefix is not a prefix of the tokenization of the whole text, so text is only
settled where what follows can no longer change it. `encode` is: added-token split, then per chunk
normalize (per grapheme cluster), split at whitespace, Metaspace units, Unigram per unit (see `xlmr`).
Each stage settles on its own:

1. Raw text is cut between two characters that are both "plain" for grapheme clustering (there is
   a cluster boundary there whatever follows, see `graphemes`) and that sit side by side in no added
   token (so no added token spans the cut). Normalization works per cluster, so
   normalize(a + b) == normalize(a) + normalize(b) at such a cut.
2. In the normalized text a word followed by whitespace is complete, and within the open word every
   Metaspace unit but the last is complete (a later "▁" only splits what comes after it).
3. The last unit runs through an incremental Viterbi: the same lattice, float64 sums and tie-breaking
   as `unigram.Unigram`, computed node by node as characters arrive. Its pieces settle up to the node
   that every possible future best path goes through: the common ancestor, along the best-path back
   pointers, of the nodes from which a piece could still reach past the known text. This is what lets
   scripts written without spaces (zh, ja, th) settle as they stream; a unit whose paths never
   converge (a long run of one repeated character) stays open until it ends.

Only `XLMRTokenizer` (a sentencepiece model) is supported: a `tokenizer.json`-only checkpoint's
pipeline lives inside the `tokenizers` package, where its lattice cannot be reached.
"""

from __future__ import annotations

import bisect
import functools
import re

from ..errors import ClosedError
from .graphemes import _PLAIN, graphemes
from .unigram import Unigram
from .xlmr import _META, _WHITESPACE, SURROGATES, XLMRTokenizer

_IS_PLAIN = re.compile(_PLAIN).fullmatch
_SPLIT = re.compile(f"({_WHITESPACE.pattern})")


class IncrementalEncoder:
    """feed(text) -> the ids settled by it; pending(limit) -> ids of the unsettled rest as if the text
    ended now (provisional); close() -> the remaining ids. The concatenation of everything feed() and
    close() return is `tokenizer.encode(all the text fed)`. One encoder per text, one thread at a time."""

    def __init__(self, tokenizer: XLMRTokenizer, on_text=None):
        """`on_text(part)`, if given, receives the raw text in the parts it is cut into (each cut is a
        grapheme-cluster boundary, so per-cluster normalization of the parts is that of the whole)."""
        if not isinstance(tokenizer, XLMRTokenizer):
            raise TypeError(
                f"streaming needs a sentencepiece-model tokenizer (XLMRTokenizer), not {type(tokenizer).__name__}"
            )
        self._tok = tokenizer
        self._on_text = on_text
        self._categories = graphemes().categories
        self._added_pairs = _adjacent_pairs(tokenizer._added)
        self._raw = ""  # raw text after the last cut
        self._letters = ""  # its grapheme categories, one letter per character
        self._scanned = 1  # positions of _raw below this were ruled out as cuts
        self._in_word = False
        self._unit: _Unit | None = None
        self._out: list[int] = []
        self._closed = False

    def feed(self, text: str) -> list[int]:
        if self._closed:
            raise ClosedError("this encoder is closed")
        if not text:
            return []
        text = SURROGATES.sub("\ufffd", text)
        self._raw += text
        self._letters += text.translate(self._categories)
        cut = self._last_cut()
        if cut:
            self._take_raw(self._raw[:cut])
            self._raw, self._letters = self._raw[cut:], self._letters[cut:]
        self._scanned = max(1, len(self._raw))  # positions after the last cut are no cut either
        if self._unit is not None:
            self._out += self._unit.settle()
        out, self._out = self._out, []
        return out

    def pending(self, limit: int) -> list[int]:
        """The last `limit` ids of the unsettled text as it would tokenize if the text ended now."""
        if limit <= 0:
            return []
        if not self._raw:
            return self._unit.peek("", limit) if self._unit is not None else []
        # held raw text is a character or two, or a run of combining marks: a bounded preview will do
        return self._preview(self._raw[-4096:], limit)[-limit:]

    def close(self) -> list[int]:
        if self._closed:
            raise ClosedError("this encoder is closed")
        self._closed = True
        if self._raw:
            self._take_raw(self._raw)
            self._raw = self._letters = ""
        self._end_word()
        out, self._out = self._out, []
        return out

    # -- stage 1: raw text -----------------------------------------------------------------------
    def _last_cut(self) -> int:
        """The last position p (0 < p < len) where the raw text can be cut for good, or 0."""
        raw, letters, pairs = self._raw, self._letters, self._added_pairs
        for p in range(len(raw) - 1, self._scanned - 1, -1):
            if _IS_PLAIN(letters[p - 1]) and _IS_PLAIN(letters[p]) and raw[p - 1 : p + 1] not in pairs:
                return p
        return 0

    def _take_raw(self, raw: str) -> None:
        tok = self._tok
        if self._on_text is not None:
            self._on_text(raw)
        for k, chunk in enumerate(tok._added_re.split(raw)):
            if k % 2:
                self._end_word()
                self._out.append(tok._added[chunk])
            elif chunk:
                self._take_normalized(tok.normalize(chunk))

    # -- stage 2: words and Metaspace units -------------------------------------------------------
    def _take_normalized(self, text: str) -> None:
        for k, part in enumerate(_SPLIT.split(text)):
            if k % 2:
                self._end_word()
            elif part:
                if not self._in_word:
                    self._in_word = True
                    self._unit = _Unit(self._tok._model)
                    if part[0] == _META:  # a word's own leading "▁" is its Metaspace prefix
                        part = part[1:]
                first, *others = part.split(_META)
                self._extend(first)
                for other in others:  # a "▁" inside a word starts a new unit
                    self._out += self._unit.finish()
                    self._unit = _Unit(self._tok._model)
                    self._extend(other)

    def _extend(self, chars: str) -> None:
        if chars:
            self._unit.extend(chars)

    def _end_word(self) -> None:
        if self._in_word:
            self._out += self._unit.finish()
            self._in_word, self._unit = False, None

    def _preview(self, raw: str, limit: int) -> list[int]:
        """pending() while raw text is held: stages 1-2 run on a copy, the open unit only peeked at."""
        tok, model = self._tok, self._tok._model
        cont = ""  # characters that continue the open unit
        items: list[str | int] = []  # then: unit strings and added-token ids
        in_word = self._in_word
        for k, chunk in enumerate(tok._added_re.split(raw)):
            if k % 2:
                in_word = False
                items.append(tok._added[chunk])
                continue
            for j, part in enumerate(_SPLIT.split(tok.normalize(chunk)) if chunk else ()):
                if j % 2:
                    in_word = False
                elif part:
                    if not in_word:
                        in_word = True
                        items.append(_META)
                        part = part[1:] if part[0] == _META else part
                    first, *others = part.split(_META)
                    if items:
                        items[-1] += first
                    else:
                        cont += first
                    items.extend(_META + other for other in others)
        ids = self._unit.peek(cont, limit) if self._in_word else []
        for item in items:
            if isinstance(item, int):
                ids.append(item)
            else:
                unit = _Unit(model)
                unit.extend(item[1:])
                ids += unit.finish()
        return ids


class _Unit:
    """One Metaspace unit ("▁" + characters) segmented by an incremental Viterbi identical to
    `Unigram._viterbi`: node k's best score and back pointer are computed once characters 0..k-1 are
    known, pulling candidates from earlier nodes in the order Unigram pushes them (start ascending;
    the first best wins), so the float64 sums and the ties come out the same."""

    def __init__(self, model: Unigram):
        self._model = model
        self._ids, self._scores, self._reach = model.ids, model.scores, model.reach
        self._longest = _longest_piece(model)
        self._text = _META  # characters from position `_lo` on
        self._lo = 0
        self._best = [0.0]  # per node from `_lo`: best path score, back pointer, last piece id
        self._start = [-1]
        self._node = [0]
        self._base = 0  # the settled node: pieces up to it are out
        self._last_unk = False  # the last settled piece was <unk> (consecutive <unk>s fuse into one)
        self._grow(1)

    @property
    def _known(self) -> int:
        return self._lo + len(self._text)

    def extend(self, chars: str) -> None:
        before = self._known
        self._text += chars
        self._grow(before + 1)

    def _grow(self, first: int) -> None:
        """Best score and back pointer of nodes first.._known (node k: after character k-1)."""
        text, lo, get, scores, reach = self._text, self._lo, self._ids.get, self._scores, self._reach
        unk_id, unk_score = self._model.unk_id, self._model.unk_score
        best, start, node = self._best, self._start, self._node
        for k in range(first, self._known + 1):
            best_k, start_k, node_k = 0.0, -1, 0
            for i in range(max(lo, k - self._longest), k):
                char = text[i - lo]
                if k - i > reach.get(char, 0):
                    if i == k - 1:  # no piece for this character: <unk> is the only edge (i, i+1)
                        candidate = unk_score + best[i - lo]
                        if start_k < 0 or candidate > best_k:
                            best_k, start_k, node_k = candidate, i, unk_id
                    continue
                piece_id = get(text[i - lo : k - lo])
                if piece_id is None:
                    if i == k - 1:
                        candidate = unk_score + best[i - lo]
                        if start_k < 0 or candidate > best_k:
                            best_k, start_k, node_k = candidate, i, unk_id
                    continue
                candidate = scores[piece_id] + best[i - lo]
                if start_k < 0 or candidate > best_k:
                    best_k, start_k, node_k = candidate, i, piece_id
            best.append(best_k)
            start.append(start_k)
            node.append(node_k)

    def settle(self) -> list[int]:
        """The pieces every continuation of this unit starts with, from the settled node on."""
        end = self._known
        # nodes where a future best path can leave the known text: the end, and any node from which
        # a piece could still run past it
        open_nodes = {end}
        lo, text, reach, prefixes = self._lo, self._text, self._reach, _prefix_index(self._model)
        for i in range(max(self._base, end - self._longest + 1), end):
            if reach.get(text[i - lo], 0) > end - i and _is_strict_prefix(prefixes, text[i - lo :]):
                open_nodes.add(i)
        start = self._start
        while len(open_nodes) > 1:
            latest = max(open_nodes)
            open_nodes.discard(latest)
            back = start[latest - lo]
            if back < self._base:  # cannot happen (every path goes through the settled node); be safe
                return []
            open_nodes.add(back)
        (common,) = open_nodes
        if common <= self._base:
            return []
        out = self._path(common, self._base)
        self._last_unk = self._node[common - lo] == self._model.unk_id
        self._base = common
        self._trim()
        return out

    def finish(self) -> list[int]:
        out = self._path(self._known, self._base)
        self._base = self._known
        return out

    def peek(self, chars: str, limit: int) -> list[int]:
        """The last `limit` pieces from the settled node to the end of the unit as if it ended after
        `chars` (which are not kept)."""
        if chars:
            saved = (self._text, len(self._best))
            self.extend(chars)
            try:
                return self._path(self._known, self._base, limit)
            finally:
                self._text = saved[0]
                del self._best[saved[1] :], self._start[saved[1] :], self._node[saved[1] :]
        return self._path(self._known, self._base, limit)

    def _path(self, end: int, stop: int, limit: int | None = None) -> list[int]:
        """Piece ids of the best path from node `stop` to node `end` (the last `limit` of them), with
        consecutive <unk> fused, also across the previously settled piece."""
        lo, start, node, unk_id = self._lo, self._start, self._node, self._model.unk_id
        nodes = []
        k = end
        while k > stop and (limit is None or len(nodes) <= limit):
            nodes.append(k)
            k = start[k - lo]
        nodes.reverse()
        out = []
        previous_unk = self._last_unk if k == stop else False
        for k in nodes:
            piece_id = node[k - lo]
            if piece_id == unk_id:
                if not previous_unk:
                    out.append(piece_id)
                previous_unk = True
            else:
                out.append(piece_id)
                previous_unk = False
        return out if limit is None else out[-limit:] if limit else []

    def _trim(self) -> None:
        keep = min(self._base, self._known - self._longest)
        drop = keep - self._lo
        if drop > 1024:
            self._text = self._text[drop:]
            del self._best[:drop], self._start[:drop], self._node[:drop]
            self._lo = keep


def _adjacent_pairs(added: dict[str, int]) -> frozenset[str]:
    return frozenset(name[i : i + 2] for name in added for i in range(len(name) - 1))


@functools.lru_cache(maxsize=8)
def _longest_piece(model: Unigram) -> int:
    return max(model.reach.values(), default=1)


@functools.lru_cache(maxsize=8)
def _prefix_index(model: Unigram) -> list[str]:
    return sorted(model.ids)


def _is_strict_prefix(pieces: list[str], text: str) -> bool:
    """Whether some piece is longer than `text` and starts with it."""
    i = bisect.bisect_left(pieces, text)
    for candidate in pieces[i : i + 2]:
        if len(candidate) > len(text) and candidate.startswith(text):
            return True
    return False
