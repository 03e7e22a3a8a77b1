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
SCHEMA_VERSION = 2  # 2: the integrity record
MAX_LENGTH_LIMIT = 8192  # no XLM-R-family position table is longer


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
    selection: dict | None = None  # what `--quant auto-...` tried and chose (crest_edge.autoquant)
    integrity: dict | None = None  # see crest_edge.formats.integrity
    trim: dict | None = None  # a trimmed checkpoint's record: languages served, how pieces were chosen
    # how the quantization was made beyond its name: per-tensor types, smoothing, calibration, ...
    quantization_recipe: dict | None = None
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
        except (ValueError, RecursionError) as exc:
            raise ArtifactError(f"{origin}: not a valid crest-edge manifest ({type(exc).__name__})") from None
        problems = _problems(data)
        if problems:
            raise ArtifactError(f"{origin}: not a valid crest-edge manifest: " + "; ".join(problems))
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

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
        """Record the size and the sha256 of each file, and seal the manifest (see integrity)."""
        from .integrity import digest_ranges, seal

        directory = Path(directory)
        self.files = {name: (directory / name).stat().st_size for name in names}
        seal(self, {name: digest_ranges(directory / name, [(0, size)]) for name, size in self.files.items()})

    def verify_files(self, directory: Path, mode: str = "full") -> None:
        """check_files, then every file's content and the manifest's own fields against the record."""
        from .integrity import verify

        self.check_files(directory)
        directory = Path(directory)
        targets = {name: (directory / name, [(0, size)]) for name, size in self.files.items()}
        verify(self, str(directory), targets, mode)

    def check_files(self, directory: Path) -> None:
        """Raise naming the first artifact file that is missing or has the wrong size."""
        for name, size in self.files.items():
            path = Path(directory) / name
            if not path.is_file():
                raise ArtifactError(f"{path}: missing (listed in {MANIFEST_NAME})")
            actual = path.stat().st_size
            if actual != size:
                raise ArtifactError(f"{path}: {actual} bytes but the manifest says {size}; truncated or replaced")


def _problems(data) -> list[str]:
    """Everything wrong with a manifest's decoded JSON, checked field by field before it is trusted."""
    if not isinstance(data, dict):
        return ["not a JSON object"]
    problems = []

    def expect(key, kind, required=True):
        value = data.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, kind):
            problems.append(f"{key} is {type(value).__name__ if key in data else 'missing'}")
            return None
        return value

    fmt = expect("format", str)
    if fmt is not None and fmt not in FORMATS:
        problems.append(f"unknown artifact format {fmt!r}")
    quant = expect("quantization", str)
    if fmt in FORMATS and quant is not None and quant not in FORMATS[fmt].quants:
        problems.append(f"quantization {quant!r} is not one {fmt} is written in")
    labels = expect("labels", list)
    if labels is not None:
        if len(labels) < 2 or not all(isinstance(x, str) and x.strip() for x in labels):
            problems.append("labels must be two or more non-empty strings")
        elif len(set(labels)) != len(labels) or [x.lower() for x in labels].count("unsafe") != 1:
            problems.append(f"labels {labels} must be distinct, with exactly one 'unsafe'")
    max_length = expect("max_length", int)
    if max_length is not None and not 3 <= max_length <= MAX_LENGTH_LIMIT:
        problems.append(f"max_length {max_length} is outside 3..{MAX_LENGTH_LIMIT}")
    expect("source_sha256", str)
    for key in ("versions", "files", "model"):
        expect(key, dict)
    for key in ("parity", "selection", "integrity", "trim", "quantization_recipe"):
        expect(key, dict, required=False)
    if isinstance(data.get("trim"), dict):
        from ..trim.record import problems as trim_problems

        problems += [f"trim: {p}" for p in trim_problems(data["trim"])]
    recipe = data.get("quantization_recipe")
    if isinstance(recipe, dict):
        types = recipe.get("tensor_types", {})
        if not isinstance(types, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in types.items()):
            problems.append("quantization_recipe.tensor_types must map tensor groups to type names")
        problems += _smoothing_problems(recipe.get("smoothing"))
    expect("created", str, required=False)
    expect("schema", int, required=False)
    files = data.get("files")
    if isinstance(files, dict):
        for name, size in files.items():
            parts = name.split("/")  # one folder level at most (a transformers.js package's onnx/)
            if len(parts) > 2 or "\\" in name or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
                problems.append(f"file name {name!r} is not a plain name inside the artifact")
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                problems.append(f"file {name!r} has size {size!r}")
    return problems


def _smoothing_problems(smoothing) -> list[str]:
    """A recipe's smoothing, when present, says its alpha and which sites it rescaled."""
    if smoothing is None:
        return []
    if not isinstance(smoothing, dict):
        return ["quantization_recipe.smoothing is not an object"]
    problems = []
    alpha = smoothing.get("alpha")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        problems.append(f"quantization_recipe.smoothing.alpha {alpha!r} is not a number in 0..1")
    sites = smoothing.get("sites")
    if not isinstance(sites, list) or not sites or not all(isinstance(s, str) for s in sites):
        problems.append("quantization_recipe.smoothing.sites must be a non-empty list of names")
    return problems


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
