"""A sentencepiece ModelProto read without the `protobuf` package: pieces, scores, types and the
normalizer spec. One reader for the tokenizer and the GGUF writer. Standard library only.

The fields used (sentencepiece_model.proto): ModelProto 1 pieces, 2 trainer_spec, 3 normalizer_spec;
SentencePiece 1 piece, 2 score, 3 type; TrainerSpec 3 model_type; NormalizerSpec 2 precompiled_charsmap,
3 add_dummy_prefix, 4 remove_extra_whitespaces.
"""

from __future__ import annotations

import struct

# SentencePiece.Type values (the same numbers as gguf's TokenType)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
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
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > size or field == 0:
            raise ValueError("truncated message")
        yield field, wire, value, start, pos


class SentencePieceModel:
    """Pieces, scores and types of a sentencepiece model, and its precompiled charsmap, read straight
    from the proto: loading the model into sentencepiece as well would hold a second copy of a
    250k-piece vocabulary (~40 MB) just to read it out."""

    def __init__(self, data: bytes):
        self.pieces: list[str] = []
        self.scores: list[float] = []
        self.charsmap: bytes | None = None
        self.types: dict[int, int] = {}  # index -> type, for the pieces that are not NORMAL
        self.add_dummy_prefix = self.remove_extra_whitespaces = True  # the proto's defaults
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
                if (
                    data[pos] == 0x0A
                    and text_len < 0x80
                    and tail < end
                    and data[tail] == 0x15
                    and (
                        length == text_len + 7
                        or (length == text_len + 9 and data[tail + 5] == 0x18 and data[tail + 6] == 1)
                    )
                ):
                    pieces.append(data[pos + 2 : tail].decode("utf-8"))
                    scores.append(unpack_score(data, tail + 1)[0])
                else:
                    piece, score, kind = _piece_fields(data[pos:end])
                    pieces.append(piece)
                    scores.append(score)
                    if kind != NORMAL:
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
                        elif f == 3 and w == 0:
                            self.add_dummy_prefix = bool(v)
                        elif f == 4 and w == 0:
                            self.remove_extra_whitespaces = bool(v)
                break
        if len(pieces) < 4:
            raise ValueError("a sentencepiece model with fewer than 4 pieces")
        if self.model_type != _UNIGRAM:
            raise ValueError(f"model type {_MODEL_TYPES.get(self.model_type, self.model_type)}, XLM-R uses unigram")
        self.piece_count = len(pieces)

    def type_of(self, index: int) -> int:
        return self.types.get(index, NORMAL)


def _piece_fields(payload: bytes) -> tuple[str, float, int]:
    piece, score, kind = "", 0.0, NORMAL
    for field, wire, value, _, _ in _fields(payload):
        if field == 1 and wire == 2:
            piece = value.decode("utf-8")
        elif field == 2 and wire == 5:
            score = _SCORE.unpack(value)[0]
        elif field == 3 and wire == 0:
            kind = value
    return piece, score, kind
