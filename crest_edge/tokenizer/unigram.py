"""tokenizers' `Unigram` model, as transformers runs it for XLM-R. Standard library only.

It works over the fairseq vocabulary `<s> <pad> </s> <unk>` + sentencepiece pieces 3.. + `<mask>`.
There the specials are ordinary pieces scored 0.0, so a word that becomes "<s>" only after
normalization (full-width "＜s＞") is segmented with them. Unknown characters get `<unk>`, a run of
them one `<unk>`. Paths are summed in float64 and the first best path wins; sentencepiece sums in
float32, which breaks exact ties differently (see `Unigram`).
"""

from __future__ import annotations


class Unigram:
    """tokenizers' `Unigram` model (encode_optimized + fuse_unk) over the fairseq vocabulary: the same
    lattice, the same float64 sums and the same tie-breaking (first best path wins). sentencepiece's
    own Viterbi sums in float32 and so breaks exact ties differently ("555": "5"+"55" vs "55"+"5")."""

    K_UNK_PENALTY = 10.0

    def __init__(self, pieces: list[str], scores: list[float], unk_id: int):
        # a duplicated string keeps its last id (and that id's score), as in tokenizers
        self.ids: dict[str, int] = dict(zip(pieces, range(len(pieces))))
        self.scores = scores
        reach: dict[str, int] = {}  # first character -> length of the longest piece starting with it
        get = reach.get
        for piece in self.ids:
            if piece and len(piece) > get(piece[0], 0):
                reach[piece[0]] = len(piece)
        self.reach = reach
        self.unk_id = unk_id
        self.unk_score = min(self.scores) - self.K_UNK_PENALTY
        self._cache: dict[str, list[int]] = {}

    def encode(self, word: str) -> list[int]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        ids = self._viterbi(word)
        if len(self._cache) >= 100_000:
            self._cache.clear()
        self._cache[word] = ids
        return ids

    def _viterbi(self, word: str) -> list[int]:
        n = len(word)
        if n == 0:
            return []
        get, scores, reach = self.ids.get, self.scores, self.reach
        unk_id, unk_score = self.unk_id, self.unk_score
        best = [0.0] * (n + 1)
        start = [-1] * (n + 1)  # -1: not reached yet
        node = [0] * (n + 1)
        for i in range(n):
            here = best[i]
            single = False
            longest = reach.get(word[i], 0)
            end = i + longest if i + longest < n else n
            for j in range(i + 1, end + 1):
                piece_id = get(word[i:j])
                if piece_id is None:
                    continue
                candidate = scores[piece_id] + here
                if start[j] < 0 or candidate > best[j]:
                    best[j], start[j], node[j] = candidate, i, piece_id
                if j == i + 1:
                    single = True
            if not single:
                candidate = unk_score + here
                j = i + 1
                if start[j] < 0 or candidate > best[j]:
                    best[j], start[j], node[j] = candidate, i, unk_id
        out = []
        j = n
        previous_unk = False
        while j > 0:
            piece_id = node[j]
            if piece_id == unk_id:
                if not previous_unk:  # consecutive unknowns are fused into one token
                    out.append(unk_id)
                previous_unk = True
            else:
                out.append(piece_id)
                previous_unk = False
            j = start[j]
        out.reverse()
        return out
