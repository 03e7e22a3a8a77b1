"""A checkpoint that ships only `tokenizer.json`: served by the `tokenizers` package, rebuilt the way
transformers 5.x rebuilds an XLM-R tokenizer.json."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from ..errors import ArtifactError
from .files import read_tokenizer_file
from .vocab import BOS_ID, EOS_ID, MASK_TOKEN, PAD_ID, UNK_ID
from .xlmr import SURROGATES

_META = "\u2581"


class JsonTokenizer:
    """A checkpoint with only `tokenizer.json`: served by the `tokenizers` package, rebuilt as
    transformers 5.x rebuilds it for XLM-R (Precompiled normalizer only, WhitespaceSplit + Metaspace
    "always", Unigram with unk id 3 and no byte fallback; the file's added tokens kept)."""

    bos_id, pad_id, eos_id, unk_id = BOS_ID, PAD_ID, EOS_ID, UNK_ID

    def __init__(self, tokenizer, model_bytes: bytes):
        self._tok = tokenizer
        self.model_bytes = model_bytes
        self.vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
        self.mask_id = tokenizer.token_to_id(MASK_TOKEN)

    @classmethod
    def from_bytes(cls, data: bytes, origin: str = "tokenizer.json") -> JsonTokenizer:
        from ..extras import require

        tokenizers = require("tokenizers", "tokenizer.json")
        data = bytes(data)
        try:
            spec = json.loads(data.decode("utf-8"))
            model = spec["model"]
            if model.get("type") != "Unigram":
                raise ValueError(f"model type {model.get('type')!r}, expected Unigram")
            vocab = [(str(p), float(s)) for p, s in model["vocab"]]
            tok = tokenizers.Tokenizer.from_str(data.decode("utf-8"))
            tok.model = tokenizers.models.Unigram(vocab, unk_id=UNK_ID, byte_fallback=False)
            charsmap = _find_charsmap(spec.get("normalizer"))
            tok.normalizer = tokenizers.normalizers.Precompiled(charsmap) if charsmap else None
            tok.pre_tokenizer = tokenizers.pre_tokenizers.Sequence(
                [
                    tokenizers.pre_tokenizers.WhitespaceSplit(),
                    tokenizers.pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always"),
                ]
            )
            tok.no_truncation()
            tok.no_padding()
        except Exception as exc:
            raise ArtifactError(f"{origin}: not a usable XLM-R tokenizer.json ({exc})") from None
        return cls(tok, data)

    @classmethod
    def from_file(cls, path: Path) -> JsonTokenizer:
        return cls.from_bytes(read_tokenizer_file(path), str(path))

    def encode(self, text: str) -> list[int]:
        """Piece ids without <s> and </s>."""
        return self.encode_batch([text])[0]

    def encode_batch(self, texts) -> list[list[int]]:
        texts = [SURROGATES.sub("\ufffd", t) for t in texts]
        return [e.ids for e in self._tok.encode_batch(texts, add_special_tokens=False)]


def _find_charsmap(normalizer) -> bytes | None:
    if not normalizer:
        return None
    items = normalizer.get("normalizers", []) if normalizer.get("type") == "Sequence" else [normalizer]
    for item in items:
        if item and item.get("type") == "Precompiled" and item.get("precompiled_charsmap"):
            return base64.b64decode(item["precompiled_charsmap"])
    return None
