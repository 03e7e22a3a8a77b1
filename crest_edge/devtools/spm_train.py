"""Train small, deterministic sentencepiece models shaped like XLM-R's `sentencepiece.bpe.model`.

XLM-R ships a sentencepiece *unigram* model (despite the file name) with the `nmt_nfkc` normalizer,
a dummy prefix, extra-whitespace removal, `<unk>`=0, `<s>`=1, `</s>`=2 and no pad piece; fairseq then
shifts every id by one and adds `<pad>` and `<mask>` (see `crest_edge.tokenizer`).

`pad_to` grows a small trained model to a large vocabulary (XLM-R has 250,000 sentencepiece pieces)
with extra NORMAL pieces made only of supplementary private-use characters (U+F0000 upward), scored
below every trained piece, so they never win on real text but give synthetic checkpoints real ids.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as model_pb2

from ..errors import ArtifactError

# Supplementary Private Use Area-A and -B (U+FFFFE/F and U+10FFFE/F are noncharacters: skipped).
_PUA_RANGES = ((0xF0000, 0xFFFFE), (0x100000, 0x10FFFE))
_PAD_SCORE_GAP = 1.0  # first padding piece scores this far below the lowest trained piece
_PAD_SCORE_STEP = 1e-4  # then each further piece a little lower (distinct, strictly decreasing)


def _padding_pieces(count: int, taken: set[str]) -> list[str]:
    """`count` distinct strings of private-use characters, in a fixed order: every 1-char string,
    then 2-char strings, and so on."""
    alphabet = [chr(c) for a, b in _PUA_RANGES for c in range(a, b)]
    out: list[str] = []
    level = [""]
    while len(out) < count:
        grown = []
        for prefix in level:
            for char in alphabet:
                piece = prefix + char
                grown.append(piece)
                if piece not in taken:
                    out.append(piece)
                    if len(out) == count:
                        return out
        level = grown
    return out


def pad_model_proto(proto: model_pb2.ModelProto, pad_to: int) -> None:
    """Append private-use NORMAL pieces to `proto` until it has exactly `pad_to` pieces."""
    have = len(proto.pieces)
    if pad_to < have:
        raise ValueError(f"pad_to={pad_to} is smaller than the trained vocabulary ({have} pieces)")
    if pad_to == have:
        return
    normal = [p.score for p in proto.pieces if p.type == model_pb2.ModelProto.SentencePiece.NORMAL]
    lowest = min(normal) if normal else 0.0
    taken = {p.piece for p in proto.pieces}
    for k, piece in enumerate(_padding_pieces(pad_to - have, taken)):
        new = proto.pieces.add()
        new.piece = piece
        new.score = lowest - _PAD_SCORE_GAP - k * _PAD_SCORE_STEP
        new.type = model_pb2.ModelProto.SentencePiece.NORMAL
    proto.trainer_spec.vocab_size = pad_to


def _train(lines: list[str], options: dict) -> bytes:
    buffer = io.BytesIO()
    with open(os.devnull, "w") as quiet:
        spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=buffer, logstream=quiet, **options)
    return buffer.getvalue()


def train_sentencepiece(
    texts: Iterable[str], vocab_size: int, out_path: Path, pad_to: int | None = None, seed: int = 0
) -> Path:
    """Train an XLM-R-shaped sentencepiece unigram model on `texts` and write it to `out_path`.

    Deterministic: the same texts, sizes and seed give a byte-identical file. `vocab_size` is a soft
    limit (small corpora may yield fewer pieces); `pad_to` then pads the model to exactly that many
    pieces (see module docstring).
    """
    out_path = Path(out_path)
    lines = [t.replace("\r", " ").replace("\n", " ") for t in texts if isinstance(t, str)]
    lines = [t for t in lines if t.strip()]
    if not lines:
        raise ValueError("train_sentencepiece: no non-empty training text")
    spm.set_random_generator_seed(int(seed))
    options = dict(
        model_type="unigram",
        vocab_size=int(vocab_size),
        hard_vocab_limit=False,
        character_coverage=0.9995,
        normalization_rule_name="nmt_nfkc",
        add_dummy_prefix=True,
        remove_extra_whitespaces=True,
        split_by_whitespace=True,
        byte_fallback=False,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        unk_piece="<unk>",
        bos_piece="<s>",
        eos_piece="</s>",
        num_threads=1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        max_sentence_length=1 << 16,
    )
    try:
        data = _train(lines, dict(options, minloglevel=2))  # quiet where supported
    except (RuntimeError, OSError, ValueError) as exc:
        if "minloglevel" not in str(exc):
            raise
        data = _train(lines, options)
    proto = model_pb2.ModelProto()
    proto.ParseFromString(data)
    # Nothing machine- or run-specific in the file: no input paths, no model prefix.
    del proto.trainer_spec.input[:]
    proto.trainer_spec.model_prefix = ""
    proto.trainer_spec.num_threads = 1
    if pad_to is not None:
        pad_model_proto(proto, int(pad_to))
    data = proto.SerializeToString(deterministic=True)
    check = spm.SentencePieceProcessor()
    try:
        check.LoadFromSerializedProto(data)
    except Exception as exc:  # pragma: no cover - would be a bug here
        raise ArtifactError(f"trained sentencepiece model does not load: {exc}") from None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(data)
    return out_path
