"""What this machine and these engine builds can do (`crest-edge doctor` prints it)."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from .cpu import amx_state, cpu_flags, cpu_isa
from .extras import is_installed
from .registry import ENGINES


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _engine_row(engine: str) -> dict:
    spec = ENGINES[engine]
    row = {
        "installed": is_installed(spec.modules[0]),
        "extra": spec.extra,
        "versions": {p: _version(p) for p in spec.packages if _version(p)},
    }
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
    from .version import __version__

    return {
        "crest_edge": __version__,
        "python": sys.version.split()[0],
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu": {"isa": cpu_isa(), "amx": amx_state(), "flags": list(cpu_flags())},
        "engines": {engine: _engine_row(engine) for engine in ENGINES},
    }
