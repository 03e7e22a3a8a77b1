"""sentencepiece's precompiled charsmap, applied the way tokenizers' `Precompiled` normalizer does,
and just enough of the model proto to get at it. Standard library only.

The normalizer transformers builds from `sentencepiece.bpe.model` is `Precompiled(charsmap)`: the
model's own nmt_nfkc map, but applied the `tokenizers` way: it walks extended grapheme clusters
(UAX #29, Unicode 16 in tokenizers 0.23; see `graphemes`); a cluster shorter than 6 UTF-8 bytes that
has *any* prefix in the map becomes the replacement of its *shortest* such prefix, the rest of the
cluster being dropped (U+FB01 U+0301 -> "fi"; "e" U+0301 U+0323 -> U+00E9); any other cluster is
mapped character by character, so longer clusters are never composed (U+1100 U+1161 stays two jamo).
sentencepiece applies the longest match at each position instead.

The charsmap (a darts-clone double array) is read directly, and so are the pieces and scores
(`_ModelInfo`).
"""
from __future__ import annotations

import struct

from .graphemes import _graphemes


class PrecompiledCharsmap:
    """A darts-clone double array (keys: UTF-8 strings) plus the NUL-separated replacement strings."""

    def __init__(self, blob: bytes):
        if len(blob) < 4:
            raise ValueError("precompiled charsmap too short")
        size = int.from_bytes(blob[:4], "little")
        if size % 4 or 4 + size > len(blob):
            raise ValueError("precompiled charsmap: bad trie size")
        self._units = list(struct.unpack_from(f"<{size // 4}I", blob, 4))
        self._normalized = blob[4 + size:]
        self._chars = _CharTable(self)

    def prefixes(self, key: bytes) -> list[tuple[int, str]]:
        """(byte length, replacement) of every key that is a prefix of `key`, shortest first."""
        units, out = self._units, []
        if not units:
            return out
        pos = (units[0] >> 10) << ((units[0] & (1 << 9)) >> 6)
        for i, byte in enumerate(key):
            pos ^= byte
            if pos >= len(units):
                break
            unit = units[pos]
            if unit & ((1 << 31) | 0xFF) != byte:
                break
            pos ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)
            if (unit >> 8) & 1:
                start = units[pos] & ((1 << 31) - 1)
                end = self._normalized.find(b"\0", start)
                out.append((i + 1, self._normalized[start:end if end >= 0 else None].decode("utf-8")))
        return out

    def normalize(self, text: str) -> str:
        """tokenizers' `Precompiled.normalize` (see module docstring)."""
        table = self._chars
        g = _graphemes()
        letters = text.translate(g.categories)
        out, last = [], 0
        for region in g.region.finditer(letters):
            start, end = region.span()
            if start > last:
                start -= 1  # the plain character the run glues to
                out.append(text[last:start].translate(table))
            last = end
            if text[start] >= "\u0800" and min(text[start:end]) >= "\u0800":
                # every multi-character cluster here is >= 6 bytes long: mapped char by char
                out.append(text[start:end].translate(table))
                continue
            for m in g.cluster.finditer(letters, start, end):
                cluster = text[m.start():m.end()]
                if len(cluster) > 1:
                    data = cluster.encode("utf-8")
                    if len(data) < 6:
                        found = self.prefixes(data)
                        if found:
                            out.append(found[0][1])
                            continue
                out.append(cluster.translate(table))
        if not out:
            return text.translate(table)
        if last < len(text):
            out.append(text[last:].translate(table))
        return "".join(out)


class _CharTable(dict):
    """str.translate table of single-character keys, filled lazily from the trie."""

    def __init__(self, charsmap: PrecompiledCharsmap):
        super().__init__()
        self._charsmap = charsmap

    def __missing__(self, code: int):
        char = chr(code)
        data = char.encode("utf-8")
        value: int | str = code
        for length, replacement in self._charsmap.prefixes(data):
            if length == len(data):
                value = replacement
        self[code] = value
        return value


# --------------------------------------------------------------------------------------------------
# Just enough of the protobuf wire format to read a sentencepiece ModelProto without the `protobuf`
# package (ModelProto: 1 pieces, 2 trainer_spec, 3 normalizer_spec; SentencePiece: 1 piece, 2 score,
# 3 type; TrainerSpec: 3 model_type; NormalizerSpec: 2 precompiled_charsmap).
_NORMAL, _UNKNOWN, _CONTROL, _USER_DEFINED, _UNUSED, _BYTE = 1, 2, 3, 4, 5, 6
_UNIGRAM = 1  # TrainerSpec.model_type (field 3 of field 2); absent means unigram
_MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}
_SCORE = struct.Struct("<f")


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("bad varint")


def _fields(buf: bytes):
    """(field number, wire type, value, start, end) for every field of one message."""
    pos, size = 0, len(buf)
    while pos < size:
        start = pos
        tag, pos = _varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > size or field == 0:
            raise ValueError("truncated message")
        yield field, wire, value, start, pos


class _ModelInfo:
    """Pieces, scores and types of a sentencepiece model, and its precompiled charsmap, read straight
    from the proto: loading the model into sentencepiece as well would hold a second copy of a
    250k-piece vocabulary (~40 MB) just to read it out."""

    def __init__(self, data: bytes):
        self.pieces: list[str] = []
        self.scores: list[float] = []
        self.charsmap: bytes | None = None
        self.types: dict[int, int] = {}  # index -> type, for the pieces that are not NORMAL
        self.model_type = _UNIGRAM
        pieces, scores, unpack_score = self.pieces, self.scores, _SCORE.unpack_from
        pos, size = 0, len(data)
        while pos < size:
            tag = data[pos]
            if tag == 0x0A:  # a piece (field 1, length-delimited): the hot loop, kept inline
                length = data[pos + 1]
                if length < 0x80:
                    pos += 2
                else:
                    length, pos = _varint(data, pos + 1)
                end = pos + length
                if end > size:
                    raise ValueError("truncated piece")
                # Fast path for the usual layout: piece(1) score(2) [type(3) = NORMAL].
                text_len = data[pos + 1]
                tail = pos + 2 + text_len
                if (data[pos] == 0x0A and text_len < 0x80 and tail < end and data[tail] == 0x15
                        and (length == text_len + 7 or (length == text_len + 9 and data[tail + 5] == 0x18
                                                        and data[tail + 6] == 1))):
                    pieces.append(data[pos + 2:tail].decode("utf-8"))
                    scores.append(unpack_score(data, tail + 1)[0])
                else:
                    piece, score, kind = _piece_fields(data[pos:end])
                    pieces.append(piece)
                    scores.append(score)
                    if kind != _NORMAL:
                        self.types[len(pieces) - 1] = kind
                pos = end
                continue
            start = pos
            for field, wire, value, _, stop in _fields(data[start:]):
                pos = start + stop
                if field == 2 and wire == 2:  # trainer_spec
                    for f, w, v, _, _ in _fields(value):
                        if f == 3 and w == 0:
                            self.model_type = v
                elif field == 3 and wire == 2:  # normalizer_spec
                    for f, w, v, _, _ in _fields(value):
                        if f == 2 and w == 2:
                            self.charsmap = v or None
                break
        if len(pieces) < 4:
            raise ValueError("a sentencepiece model with fewer than 4 pieces")
        if self.model_type != _UNIGRAM:
            raise ValueError(f"model type {_MODEL_TYPES.get(self.model_type, self.model_type)}, XLM-R uses unigram")
        self.piece_count = len(pieces)


def _piece_fields(payload: bytes) -> tuple[str, float, int]:
    piece, score, kind = "", 0.0, _NORMAL
    for field, wire, value, _, _ in _fields(payload):
        if field == 1 and wire == 2:
            piece = value.decode("utf-8")
        elif field == 2 and wire == 5:
            score = _SCORE.unpack(value)[0]
        elif field == 3 and wire == 0:
            kind = value
    return piece, score, kind
