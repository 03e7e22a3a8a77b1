"""Reading a tokenizer file, with one clear error when it cannot be read."""

from __future__ import annotations

from pathlib import Path

from ..errors import ArtifactError


def read_tokenizer_file(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read tokenizer ({exc.strerror or exc})") from None
