"""Find out what a path holds: a Hugging Face checkpoint, or a CT2 / ONNX / GGUF artifact.

The manifest decides the format, never the file name.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..errors import ArtifactError
from ..tokenizer import XLMRTokenizer, load_tokenizer
from .checkpoint import Checkpoint, hub_id_hint, open_checkpoint
from .manifest import MANIFEST_NAME, Manifest

GGUF_MAGIC = b"GGUF"


@dataclasses.dataclass
class Artifact:
    format: str  # "hf" | "ct2" | "onnx" | "gguf"
    path: Path
    manifest: Manifest | None = None  # None for a Hugging Face checkpoint
    checkpoint: Checkpoint | None = None  # only for a Hugging Face checkpoint
    tokenizer_bytes: bytes | None = None  # GGUF carries its sentencepiece model inside
    tensor_spans: dict | None = None  # GGUF: tensor name -> (start, end) bytes of its data in the file

    @property
    def labels(self) -> list[str]:
        return self.checkpoint.labels if self.checkpoint else list(self.manifest.labels)

    @property
    def max_length(self) -> int:
        return self.checkpoint.max_length if self.checkpoint else int(self.manifest.max_length)

    @property
    def precision(self) -> str:
        return "float32" if self.checkpoint else self.manifest.quantization

    @property
    def trim(self) -> dict | None:
        """The trim record of a trimmed model (see crest_edge.trim), else None."""
        if self.checkpoint:
            from ..trim.record import read_trim_record

            return read_trim_record(self.path)
        return self.manifest.trim

    def tokenizer(self):
        if self.tokenizer_bytes is not None:
            return XLMRTokenizer.from_bytes(self.tokenizer_bytes, f"{self.path} (embedded tokenizer)")
        return load_tokenizer(self.path)


def open_artifact(path, verify: str | None = "full") -> Artifact:
    """What `path` holds, its integrity checked (`verify`: "full" or "cached", see integrity; None skips
    it, for tools that inspect damaged files)."""
    target = Path(path).expanduser()
    if not target.exists():
        raise ArtifactError(hub_id_hint(str(path)))
    if target.is_file():
        with open(target, "rb") as handle:
            magic = handle.read(4)
        if magic != GGUF_MAGIC:
            raise ArtifactError(f"{target}: not a GGUF file (and not a directory)")
        from .gguf_file import read_gguf_metadata, verify_gguf

        contents = read_gguf_metadata(target)
        if verify:
            verify_gguf(target, contents, verify)
        return Artifact(
            "gguf",
            target,
            contents.manifest,
            tokenizer_bytes=contents.sentencepiece,
            tensor_spans=contents.tensor_spans,
        )
    if (target / MANIFEST_NAME).is_file():
        manifest = Manifest.read(target)
        if manifest.format == "gguf":
            raise ArtifactError(f"{target}: a GGUF manifest belongs inside the .gguf file")
        if verify:
            manifest.verify_files(target, verify)
        else:
            manifest.check_files(target)
        return Artifact(manifest.format, target, manifest)
    if (target / "config.json").is_file():
        return Artifact("hf", target, checkpoint=open_checkpoint(target))
    raise ArtifactError(
        f"{target}: neither a crest-edge artifact ({MANIFEST_NAME}) nor a Hugging Face checkpoint (config.json)"
    )
