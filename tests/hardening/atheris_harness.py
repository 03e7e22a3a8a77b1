"""atheris harness for the parsers that see bytes before any engine does: a crash is any exception
but the clear errors they are meant to raise (ArtifactError, ValueError from the proto reader)."""

import sys
import tempfile

import atheris

with atheris.instrument_imports():
    from crest_edge.errors import ArtifactError
    from crest_edge.formats.gguf_file import read_gguf_metadata
    from crest_edge.formats.manifest import Manifest
    from crest_edge.tokenizer import XLMRTokenizer

TARGET = sys.argv.pop(1)
scratch = tempfile.NamedTemporaryFile(suffix=".gguf")


def gguf_header(data: bytes) -> None:
    scratch.seek(0)
    scratch.truncate()
    scratch.write(data)
    scratch.flush()
    try:
        read_gguf_metadata(scratch.name)
    except ArtifactError:
        pass


def manifest(data: bytes) -> None:
    try:
        Manifest.from_json(data.decode("utf-8", "replace"), "fuzz")
    except ArtifactError:
        pass


def sentencepiece_model(data: bytes) -> None:
    try:
        XLMRTokenizer.from_bytes(data, "fuzz").encode("Hello wörld, 你好 <mask>!")
    except ArtifactError:
        pass


atheris.Setup(
    sys.argv, {"gguf_header": gguf_header, "manifest": manifest, "sentencepiece_model": sentencepiece_model}[TARGET]
)
atheris.Fuzz()
