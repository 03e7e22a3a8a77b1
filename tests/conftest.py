"""Shared fixtures: tiny models built locally, once per test session. Nothing is downloaded.

GPU tests are marked `cuda` or `metal`, optionally with the engine they need (`@pytest.mark.cuda("ct2")`);
they run only where that engine (or, without one named, any engine) sees such a device here.
"""

import functools
import os
from pathlib import Path

import pytest

from crest_edge.registry import ENGINES, FORMATS

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@functools.cache
def engine_devices(engine: str) -> tuple[str, ...]:
    """What `engine` can run on here; () when it is not installed or cannot start."""
    from crest_edge.runtimes import adapter

    try:
        return tuple(adapter(engine).devices())
    except Exception:  # a missing or broken engine simply has no devices here
        return ()


def engine_installed(engine: str) -> bool:
    from crest_edge.extras import is_installed

    return all(is_installed(module) for module in ENGINES[engine].modules)


def pytest_generate_tests(metafunc):
    """A test taking `engine` runs once per engine, unless it names its engines itself."""
    named = any("engine" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize"))
    if "engine" in metafunc.fixturenames and not named:
        metafunc.parametrize("engine", list(ENGINE_TARGETS))


def pytest_collection_modifyitems(config, items):
    aliases = {"metal": ("metal", "coreml")}
    for item in items:
        for device in ("cuda", "metal"):
            marker = item.get_closest_marker(device)
            if marker is None:
                continue
            engines = marker.args or tuple(ENGINES)
            names = aliases.get(device, (device,))
            if not any(set(names) & set(engine_devices(e)) for e in engines):
                who = "/".join(engines) if marker.args else "no engine"
                item.add_marker(pytest.mark.skip(reason=f"{who}: no {device} device here"))


def require_engine(engine: str) -> None:
    if not engine_installed(engine):
        pytest.skip(f"engine {engine} is not installed: pip install 'crest-edge[{ENGINES[engine].extra}]'")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A seeded random XLM-R classifier, `crest-edge synth --shape tiny`."""
    from crest_edge.devtools.synth import synth

    return synth("tiny", tmp_path_factory.mktemp("tiny") / "ckpt", seed=0)


@pytest.fixture(scope="session")
def demo_checkpoint() -> Path:
    """The trained demo checkpoint shipped inside the package."""
    from crest_edge.demo import demo_path

    return demo_path()


@pytest.fixture(scope="session")
def build_artifact(demo_checkpoint, tmp_path_factory):
    """build_artifact(to, quant) -> path: the demo checkpoint converted once per session (the parity
    and serve suites share them)."""
    from crest_edge.convert import convert

    root = tmp_path_factory.mktemp("demo-artifacts")
    built: dict[tuple[str, str], Path] = {}

    def build(to: str, quant: str) -> Path:
        require_engine(FORMATS[to].engine)
        if (to, quant) not in built:
            name = f"demo.{quant}.gguf" if FORMATS[to].single_file else f"demo-{to}-{quant}"
            built[to, quant] = convert(demo_checkpoint, root / name, to, quant)
        return built[to, quant]

    return build


@pytest.fixture(scope="session")
def corpus_texts() -> list[str]:
    """The project's multilingual parity corpus texts."""
    from crest_edge.data import parity_corpus_path, read_jsonl

    return [row["text"] for row in read_jsonl(parity_corpus_path())]


# One small artifact per engine: each format's first 8-bit quantization (the reference runs the checkpoint).
ENGINE_TARGETS = {"torch": None}
for _name, _spec in FORMATS.items():  # the first format of each engine (onnx, not transformers-js)
    ENGINE_TARGETS.setdefault(_spec.engine, (_name, next(q for q, klass in _spec.quants.items() if klass == "8-bit")))


@pytest.fixture(scope="session")
def engine_artifact(tiny_checkpoint, tmp_path_factory):
    """engine_artifact(engine) -> the tiny checkpoint converted for `engine` (once), or a skip naming
    the missing extra."""
    from crest_edge.convert import convert

    root = tmp_path_factory.mktemp("engines")
    built = {"torch": tiny_checkpoint}

    def build(engine: str) -> Path:
        require_engine(engine)
        if engine not in built:
            fmt, quant = ENGINE_TARGETS[engine]
            name = f"tiny-{quant}.gguf" if FORMATS[fmt].single_file else f"tiny-{fmt}-{quant}"
            built[engine] = convert(tiny_checkpoint, root / name, fmt, quant)
        return built[engine]

    return build


@pytest.fixture(scope="session", params=list(ENGINE_TARGETS))
def engine_guard(request, engine_artifact):
    """A Guard on each engine in turn (tiny model, CPU)."""
    from crest_edge import Guard

    # one engine thread: on 2 shared cores, spinning OpenMP pools (torch, llama.cpp) starve each other
    guard = Guard.load(engine_artifact(request.param), device="cpu", threads=1)
    yield guard
    guard.close()
