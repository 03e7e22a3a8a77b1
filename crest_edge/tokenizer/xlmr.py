"""XLM-R tokenizer: transformers-exact ids, with the standard library only.

The reference is `transformers.XLMRobertaTokenizer.from_pretrained(dir)` (transformers 5.x, backed by
`tokenizers` 0.2x): `input_ids == [BOS_ID] + encode(text) + [EOS_ID]`. The pipeline transformers builds
from `sentencepiece.bpe.model`, and how it differs from running sentencepiece itself:

1. Added tokens: `<s> <pad> </s> <unk> <mask>` (and any control / user-defined piece of the model) are
   cut out of the *raw* text first, leftmost-longest; the chunks in between are processed on their own.
   sentencepiece has no such step (it would spell "<mask>" with ordinary pieces).
2. Normalizer `Precompiled(charsmap)`: the model's own nmt_nfkc map, applied per extended grapheme
   cluster the `tokenizers` way rather than longest-match (see `charsmap` and `graphemes`).
3. No whitespace rule in the normalizer; the pre-tokenizer `WhitespaceSplit` splits on Unicode
   White_Space (which includes U+0085, kept by nmt_nfkc: sentencepiece only knows " "), then
   `Metaspace(prepend_scheme="always", split=True)` prepends U+2581 to each word unless it starts with
   one, and splits every word before each U+2581 (a literal U+2581 in the text starts a new piece).
4. A `Unigram` model over the fairseq vocabulary `<s> <pad> </s> <unk>` + sentencepiece pieces 3.. +
   `<mask>`, summing paths in float64 as tokenizers does (see `unigram`).

All four are reproduced: 1 and 3 here, 2 in `charsmap` (with `graphemes`), 4 in `unigram`. The
model's pieces and scores are read from its proto directly (`proto.SentencePieceModel`).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from ..errors import ArtifactError
from .charsmap import PrecompiledCharsmap
from .files import read_tokenizer_file
from .proto import CONTROL, USER_DEFINED, SentencePieceModel
from .unigram import Unigram
from .vocab import BOS_ID, EOS_ID, FAIRSEQ_OFFSET, MASK_TOKEN, PAD_ID, SPECIAL_TOKENS, UNK_ID

_META = "\u2581"  # "▁"
# Rust `char::is_whitespace` == Unicode White_Space (what tokenizers' WhitespaceSplit splits on).
_WHITESPACE = re.compile("[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
SURROGATES = re.compile("[\ud800-\udfff]")


class XLMRTokenizer:
    """transformers-exact XLM-R tokenizer on sentencepiece (see module docstring)."""

    bos_id, pad_id, eos_id, unk_id = BOS_ID, PAD_ID, EOS_ID, UNK_ID

    def __init__(self, info: SentencePieceModel, model_bytes: bytes):
        self.model_bytes = model_bytes
        self.piece_count = info.piece_count
        self.mask_id = info.piece_count + FAIRSEQ_OFFSET
        self.vocab_size = info.piece_count + 2
        # transformers' vocabulary: <s> <pad> </s> <unk>, pieces 3.. (id + 1), <mask>
        pieces = [*SPECIAL_TOKENS, *info.pieces[3:], MASK_TOKEN]
        scores = [0.0] * len(SPECIAL_TOKENS) + [float(x) for x in info.scores[3:]] + [0.0]
        self._model = Unigram(pieces, scores, UNK_ID)
        self._charsmap = PrecompiledCharsmap(info.charsmap) if info.charsmap else None
        # Added tokens, cut from the raw text: the specials, and the model's control and user-defined
        # pieces (transformers adds those as added tokens too).
        added = {name: i for i, name in enumerate(SPECIAL_TOKENS)}
        added[MASK_TOKEN] = self.mask_id
        for index, kind in sorted(info.types.items()):
            if kind in (CONTROL, USER_DEFINED) and info.pieces[index]:
                added.setdefault(info.pieces[index], self._model.ids.get(info.pieces[index], index + 1))
        self._added = added
        names = sorted(added, key=len, reverse=True)
        self._added_re = re.compile("(" + "|".join(re.escape(n) for n in names) + ")")

    @classmethod
    def from_bytes(cls, data: bytes, origin: str = "sentencepiece model") -> XLMRTokenizer:
        data = bytes(data)
        try:
            info = SentencePieceModel(data)
        except (ValueError, IndexError, struct.error) as exc:  # a proto that does not parse
            raise ArtifactError(f"{origin}: not a sentencepiece model ({exc or type(exc).__name__})") from None
        try:
            return cls(info, data)
        except Exception as exc:
            raise ArtifactError(f"{origin}: unsupported sentencepiece model ({exc})") from None

    @classmethod
    def from_file(cls, path: Path) -> XLMRTokenizer:
        return cls.from_bytes(read_tokenizer_file(path), str(path))

    def encode(self, text: str) -> list[int]:
        """Piece ids without <s> and </s>."""
        if SURROGATES.search(text):
            text = SURROGATES.sub("\ufffd", text)
        ids: list[int] = []
        encode_word = self._model.encode
        for k, chunk in enumerate(self._added_re.split(text)):
            if k % 2:
                ids.append(self._added[chunk])
            elif chunk:
                for word in self._pretokenize(chunk):
                    ids.extend(encode_word(word))
        return ids

    def encode_batch(self, texts) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def _pretokenize(self, chunk: str) -> list[str]:
        if self._charsmap is not None:
            chunk = self._charsmap.normalize(chunk)
        words = []
        for word in _WHITESPACE.split(chunk):
            if not word:
                continue
            if _META in word:
                if word[0] == _META:
                    word = word[1:]
                words.extend([_META + part for part in word.split(_META)])
            else:
                words.append(_META + word)
        return words

    def normalize(self, text: str) -> str:
        """`text` after the model's normalizer, as tokenizers' `Precompiled` gives it."""
        return self._charsmap.normalize(text) if self._charsmap is not None else text

    def pre_tokenize(self, text: str) -> list[str]:
        """The words the unigram model sees (added tokens left out)."""
        words: list[str] = []
        for k, chunk in enumerate(self._added_re.split(text)):
            if not k % 2 and chunk:
                words.extend(self._pretokenize(chunk))
        return words
