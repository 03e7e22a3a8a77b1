"""Lazy imports of optional engines, with the exact install line when one is missing, and their
telemetry off (see crest_edge.offline)."""

import importlib
import importlib.util

from . import offline
from .errors import MissingExtraError
from .registry import EXTRA_OF_MODULE


def require(module: str, purpose: str = ""):
    """Import `module` or raise MissingExtraError naming the pip line that installs it."""
    offline.before_import(module)
    try:
        imported = importlib.import_module(module)
    except ImportError as exc:
        extra = EXTRA_OF_MODULE.get(module.split(".")[0], "all")
        what = f" for {purpose}" if purpose else ""
        raise MissingExtraError(f"{module} is not installed{what}: pip install 'crest-edge[{extra}]'") from exc
    offline.after_import(module, imported)
    return imported


def is_installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
