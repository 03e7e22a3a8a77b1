"""The self-description every crest-edge artifact carries.

Directory artifacts (CT2, ONNX) keep it in `crest-edge.json`; a GGUF file keeps the same JSON
under the metadata key `crest_edge.manifest`. The runtime trusts the manifest, not file names.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
from pathlib import Path

from ..errors import ArtifactError
from ..registry import FORMATS

MANIFEST_NAME = "crest-edge.json"
SCHEMA_VERSION = 1


@dataclasses.dataclass
class Manifest:
    format: str
    quantization: str
    labels: list[str]
    max_length: int
    source_sha256: str
    versions: dict[str, str]
    created: str = ""
    files: dict[str, int] = dataclasses.field(default_factory=dict)  # file name -> size in bytes
    model: dict = dataclasses.field(default_factory=dict)  # hidden size, layers, vocab, ...
    parity: dict | None = None
    schema: int = SCHEMA_VERSION

    def __post_init__(self):
        if not self.created:
            self.created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, origin: str) -> Manifest:
        try:
            data = json.loads(text)
            known = {f.name for f in dataclasses.fields(cls)}
            manifest = cls(**{k: v for k, v in data.items() if k in known})
        except (ValueError, TypeError) as exc:
            raise ArtifactError(f"{origin}: not a valid crest-edge manifest ({exc})") from None
        if manifest.format not in FORMATS:
            raise ArtifactError(f"{origin}: unknown artifact format {manifest.format!r}")
        return manifest

    def write(self, directory: Path) -> Path:
        path = Path(directory) / MANIFEST_NAME
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = Path(directory) / MANIFEST_NAME
        if not path.is_file():
            raise ArtifactError(f"{directory}: no {MANIFEST_NAME}; not a crest-edge artifact")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ArtifactError(f"{path}: unreadable ({exc})") from None
        return cls.from_json(text, str(path))

    def record_files(self, directory: Path, names) -> None:
        self.files = {name: (Path(directory) / name).stat().st_size for name in names}

    def check_files(self, directory: Path) -> None:
        """Raise naming the first artifact file that is missing or has the wrong size."""
        for name, size in self.files.items():
            path = Path(directory) / name
            if not path.is_file():
                raise ArtifactError(f"{path}: missing (listed in {MANIFEST_NAME})")
            actual = path.stat().st_size
            if actual != size:
                raise ArtifactError(f"{path}: {actual} bytes but the manifest says {size}; truncated or replaced")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def engine_versions(*modules: str) -> dict[str, str]:
    """crest-edge's version plus each named engine package's version, if installed."""
    from importlib import metadata

    from ..version import __version__

    versions = {"crest-edge": __version__}
    for name in modules:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions
