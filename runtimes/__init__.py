"""Engine adapters, one module per engine, all behind runtimes.base.Engine; which adapter runs which
artifact format is crest_edge.registry's fact."""

import importlib

from crest_edge.registry import ENGINES


def adapter(engine: str):
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    return importlib.import_module(ENGINES[engine].adapter)
