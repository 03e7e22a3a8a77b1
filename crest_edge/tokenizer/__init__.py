"""The XLM-R tokenizer: transformers-exact ids from `sentencepiece.bpe.model` (standard library only,
see `xlmr`), or from `tokenizer.json` through the `tokenizers` package (`json_file`)."""

from __future__ import annotations

from pathlib import Path

from ..errors import ArtifactError
from .files import read_tokenizer_file
from .json_file import JsonTokenizer
from .vocab import (
    BOS_ID,
    EOS_ID,
    FAIRSEQ_OFFSET,
    JSON_FILE,
    MASK_TOKEN,
    PAD_ID,
    SPECIAL_TOKENS,
    SPM_FILE,
    TOKENIZER_FILES,
    UNK_ID,
)
from .xlmr import XLMRTokenizer

__all__ = [
    "XLMRTokenizer",
    "JsonTokenizer",
    "load_tokenizer",
    "read_tokenizer_file",
    "BOS_ID",
    "PAD_ID",
    "EOS_ID",
    "UNK_ID",
    "FAIRSEQ_OFFSET",
    "SPECIAL_TOKENS",
    "MASK_TOKEN",
    "SPM_FILE",
    "JSON_FILE",
    "TOKENIZER_FILES",
]


def load_tokenizer(directory: Path):
    """The checkpoint's tokenizer: `sentencepiece.bpe.model` if present, else `tokenizer.json`."""
    directory = Path(directory)
    if (directory / SPM_FILE).is_file():
        return XLMRTokenizer.from_file(directory / SPM_FILE)
    if (directory / JSON_FILE).is_file():
        return JsonTokenizer.from_file(directory / JSON_FILE)
    raise ArtifactError(f"{directory}: no tokenizer ({' or '.join(TOKENIZER_FILES)})")
