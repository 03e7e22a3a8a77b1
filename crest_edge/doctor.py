"""`crest-edge doctor`: what this machine and these engine builds can do."""
from __future__ import annotations

import platform
import sys
from importlib import metadata

from .cpu import cpu_flags, cpu_isa
from .extras import is_installed

ENGINE_PACKAGES = {"torch": ("torch", "transformers"), "ct2": ("ctranslate2",),
                   "llamacpp": ("llama-cpp-python", "gguf"), "onnx": ("onnxruntime", "onnx")}
_MODULE_OF = {"torch": "torch", "ct2": "ctranslate2", "llamacpp": "llama_cpp", "onnx": "onnxruntime"}


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _engine_row(engine: str) -> dict:
    row = {"installed": is_installed(_MODULE_OF[engine]),
           "versions": {p: _version(p) for p in ENGINE_PACKAGES[engine] if _version(p)}}
    if not row["installed"]:
        return row
    from .runtimes import adapter

    try:
        module = adapter(engine)
        row["devices"] = module.devices()
        if hasattr(module, "capabilities"):
            row.update(module.capabilities())
    except Exception as exc:  # doctor reports a broken engine instead of failing on it
        row["error"] = f"{type(exc).__name__}: {exc}"
    return row


def doctor_report() -> dict:
    from . import __version__

    return {
        "crest_edge": __version__,
        "python": sys.version.split()[0],
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu": {"isa": cpu_isa(), "flags": list(cpu_flags())},
        "engines": {engine: _engine_row(engine) for engine in ENGINE_PACKAGES},
    }


def render(report: dict) -> str:
    lines = [f"crest-edge {report['crest_edge']}  python {report['python']}  {report['platform']}",
             f"CPU: best ISA {report['cpu']['isa']}; flags: {' '.join(report['cpu']['flags']) or 'none detected'}",
             "", f"{'engine':<9} {'installed':<10} {'versions':<44} devices / capabilities"]
    for engine, row in report["engines"].items():
        versions = ", ".join(f"{k} {v}" for k, v in row["versions"].items()) or "-"
        if not row["installed"]:
            detail = f"pip install 'crest-edge[{ {'torch': 'reference', 'llamacpp': 'gguf'}.get(engine, engine)}]'"
        elif "error" in row:
            detail = "error: " + row["error"]
        else:
            extras = [f"{k}: {_short(v)}" for k, v in row.items() if k not in ("installed", "versions", "devices")]
            detail = "; ".join([", ".join(row.get("devices", []))] + extras)
        lines.append(f"{engine:<9} {'yes' if row['installed'] else 'no':<10} {versions:<44} {detail}")
    return "\n".join(lines)


def _short(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}={_short(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)
