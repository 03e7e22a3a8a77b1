"""What a benchmark runs: the plan for a backend (checked up front), the source checkpoint and its
converted artifacts, built once and cached.

Layout under the cache root (default ~/.cache/crest-edge/bench):
    synth/<shape>-seed<seed>/          synthesized checkpoints
    <sha16 of source>/<format>-<quant>  converted artifacts (a .gguf file for gguf)
    <sha16 of source>/onnx-plain-int8/  the plain ONNX Runtime int8 peer
A cached artifact is reused only if it opens and its manifest names the same source sha256.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from crest_edge.errors import ArtifactError, ConversionError, CrestEdgeError, DeviceError
from crest_edge.registry import (
    BENCH_DEFAULTS,
    DEVICE_ALIASES,
    ENGINE_FOR_FORMAT,
    ENGINES,
    EXTRA_OF_MODULE,
    FORMATS,
    quant_problem,
)

PEERS = ("torch", "onnx-plain", "openvino-raw", "openvino-nncf")
CPU_PEERS = ("onnx-plain", "openvino-raw", "openvino-nncf")  # run on the CPU only
DEFAULT_PEERS = {"cpu": PEERS, "cuda": ("torch",), "metal": ("torch",)}
PLAIN_ONNX_DIR = "onnx-plain-int8"
NNCF_DIR = "openvino-nncf-int8"


def default_cache() -> Path:
    if os.environ.get("CREST_EDGE_CACHE"):
        return Path(os.environ["CREST_EDGE_CACHE"]).expanduser() / "bench"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "crest-edge" / "bench"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def parse_formats(text: str) -> list[tuple[str, str]]:
    """`ct2:int8,gguf:q8_0` -> [("ct2", "int8"), ("gguf", "q8_0")]; every problem reported at once."""
    found, problems = [], []
    for item in (part.strip().lower() for part in text.split(",")):
        if not item:
            continue
        fmt, _, quant = item.partition(":")
        if fmt not in FORMATS or not quant:
            problems.append(f"{item!r} is not FORMAT:QUANT with FORMAT one of {', '.join(FORMATS)}")
        elif (fmt, quant) not in found:
            found.append((fmt, quant))
    if problems:
        raise ConversionError([f"--formats: {p}" for p in problems])
    return found


def parse_peers(text: str) -> list[str]:
    names = [p.strip().lower() for p in text.split(",") if p.strip() and p.strip().lower() != "none"]
    unknown = [n for n in names if n not in PEERS]
    if unknown:
        raise CrestEdgeError(f"--peers: unknown {', '.join(unknown)}; choose from {', '.join(PEERS)} (or none)")
    return list(dict.fromkeys(names))


def check_quant(fmt: str, quant: str) -> str | None:
    """Why `fmt:quant` cannot be built here (None if it can)."""
    return quant_problem(fmt, quant)


def _devices(engine: str) -> tuple[list[str] | None, str | None]:
    from crest_edge.runtimes import adapter

    try:
        return adapter(engine).devices(), None
    except Exception as exc:  # a missing or broken engine is a reason, reported with the others
        return None, f"engine {engine} unavailable ({' '.join(str(exc).split())})"


def plan(backend: str, formats, peers, say=_stderr) -> tuple[list[tuple[str, str]], list[str]]:
    """Keep what can run on `backend`. Explicit lists (not None) fail on any problem; defaults drop and say why."""
    from crest_edge.selection import resolve_device

    engines = {e: _devices(e) for e in ENGINES}
    if backend in ("cuda", "metal"):
        names = DEVICE_ALIASES.get(backend, (backend,))
        if not any(set(d or ()) & set(names) for d, _ in engines.values()):
            seen = "; ".join(f"{e}: {', '.join(d) if d else 'unavailable'}" for e, (d, _) in engines.items())
            raise DeviceError(
                f"--backend {backend}: no {backend.upper() if backend == 'cuda' else 'Metal'} device "
                f"found ({seen}); the benchmark never falls back to the CPU"
            )
    default_key = (
        backend
        if backend != "auto"
        else next((k for k in ("cuda", "metal") if any(k in (d or ()) for d, _ in engines.values())), "cpu")
    )

    def why_not(engine: str) -> str | None:
        found, error = engines[engine]
        if error or backend == "auto":
            return error
        try:
            resolve_device(engine, backend, found)
        except DeviceError as exc:
            return str(exc)
        return None

    kept_formats, kept_peers, fatal, skipped = [], [], [], []
    for fmt, quant in formats if formats is not None else parse_formats(",".join(BENCH_DEFAULTS[default_key])):
        reason = check_quant(fmt, quant) or why_not(ENGINE_FOR_FORMAT[fmt])
        if reason:
            (fatal if formats is not None else skipped).append(f"{fmt}:{quant}: {reason}")
        else:
            kept_formats.append((fmt, quant))
    for peer in peers if peers is not None else DEFAULT_PEERS[default_key]:
        reason = why_not("torch") if peer == "torch" else _cpu_peer_problem(peer, backend)
        if reason:
            (fatal if peers is not None else skipped).append(f"{peer}: {reason}")
        else:
            kept_peers.append(peer)
    if fatal:
        raise DeviceError(f"--backend {backend}: cannot run " + "; ".join(fatal))
    for problem in skipped:
        say(f"crest-edge bench: skipping {problem}")
    if not kept_formats and not kept_peers:
        raise DeviceError(f"--backend {backend}: nothing to run here")
    return kept_formats, kept_peers


def _cpu_peer_problem(peer: str, backend: str) -> str | None:
    if backend in ("cuda", "metal"):
        return f"runs on the CPU only; use --peers torch with --backend {backend}"
    needed = ("onnxruntime",) if peer == "onnx-plain" else ("openvino", "nncf")
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        return f"needs {', '.join(missing)} (pip install 'crest-edge[{EXTRA_OF_MODULE[missing[0]]}]')"
    return None


@dataclasses.dataclass
class Source:
    path: Path
    label: str  # "synth base (seed 0)" or the checkpoint path
    sha256: str
    model: dict  # layers, hidden, heads, vocab, max_length

    @property
    def key(self) -> str:
        return self.sha256[:16]


def resolve_source(model: str | None, shape: str | None, seed: int, cache: Path, say=_stderr) -> Source:
    from crest_edge.formats.checkpoint import open_checkpoint

    if model:
        path, label = Path(model).expanduser(), str(model)
    else:
        path, label = cache / "synth" / f"{shape}-seed{seed}", f"synth {shape} (seed {seed})"
        if not (path / "config.json").is_file():
            say(f"crest-edge bench: synthesizing a {shape} checkpoint into {path}")
            _synth_into(shape, seed, path)
    checkpoint = open_checkpoint(path)
    c = checkpoint.config
    info = {
        "layers": checkpoint.num_layers,
        "hidden": checkpoint.hidden_size,
        "heads": checkpoint.num_heads,
        "ffn": int(c["intermediate_size"]),
        "vocab": int(c["vocab_size"]),
        "max_length": checkpoint.max_length,
    }
    return Source(path.resolve(), label, checkpoint.sha256(), info)


def _synth_into(shape: str, seed: int, path: Path) -> None:
    from crest_edge.devtools.synth import synth

    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        synth(shape, staging / "ckpt", seed=seed)
        if path.exists():
            shutil.rmtree(path)
        (staging / "ckpt").rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def artifact_path(cache: Path, source: Source, fmt: str, quant: str) -> Path:
    return cache / source.key / (f"{fmt}-{quant}.gguf" if fmt == "gguf" else f"{fmt}-{quant}")


def ensure_artifact(source: Source, fmt: str, quant: str, cache: Path) -> Path:
    """The cached `fmt:quant` artifact of `source`, converted now if missing or stale."""
    from crest_edge.convert import convert
    from crest_edge.formats.artifact import open_artifact

    out = artifact_path(cache, source, fmt, quant)
    if out.exists():
        try:
            manifest = open_artifact(out).manifest
            if manifest and manifest.source_sha256 == source.sha256 and manifest.quantization == quant:
                return out
        except ArtifactError:
            pass  # damaged or from another converter version: rebuild it
    return convert(source.path, out, fmt, quant, force=True)


def ensure_peer(peer: str, source: Source, cache: Path) -> Path:
    """The file a CPU peer runs (see peers.py), built once per source and cached."""
    from . import peers

    if peer == "onnx-plain":
        plain = cache / source.key / PLAIN_ONNX_DIR
        return _cached(plain, source, lambda out: peers.export_plain_onnx_int8(source.path, out))
    # crest-edge's own fp32 ONNX (the legacy TorchScript export): the dynamo export of the plain ORT
    # peer reads into OpenVINO, but its NNCF int8 IR fails OpenVINO 2026.4's constant folding at compile
    fp32 = ensure_artifact(source, "onnx", "fp32", cache) / "model.onnx"
    if peer == "openvino-raw":
        return fp32
    return _cached(
        cache / source.key / NNCF_DIR, source, lambda out: peers.export_openvino_nncf_int8(fp32, source.path, out)
    )


def _cached(out: Path, source: Source, build) -> Path:
    """`build(out)`'s result, remembered in `out`.json with the source's digest."""
    marker = out.with_suffix(".json")
    if marker.is_file():
        built = Path(json.loads(marker.read_text(encoding="utf-8"))["path"])
        if built.exists() and json.loads(marker.read_text(encoding="utf-8")).get("sha256") == source.sha256:
            return built
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    built = Path(build(out)).resolve()
    marker.write_text(json.dumps({"path": str(built), "sha256": source.sha256}) + "\n", encoding="utf-8")
    return built


def size_mb(path: Path) -> float:
    """Bytes on disk of an artifact (a file, or every file under a directory), in MB (10^6)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
