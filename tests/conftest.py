"""Shared fixtures: tiny models built locally, once per test session. Nothing is downloaded."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _has_cuda() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:
        return False


def _has_metal() -> bool:
    import platform

    return platform.system() == "Darwin" and platform.machine() == "arm64"


def pytest_collection_modifyitems(config, items):
    skip_cuda = pytest.mark.skip(reason="no NVIDIA GPU on this machine (cuda tests need one)")
    skip_metal = pytest.mark.skip(reason="not an Apple Silicon Mac (metal tests need one)")
    cuda, metal = _has_cuda(), _has_metal()
    for item in items:
        if "cuda" in item.keywords and not cuda:
            item.add_marker(skip_cuda)
        if "metal" in item.keywords and not metal:
            item.add_marker(skip_metal)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A seeded random XLM-R classifier, `crest-edge synth --shape tiny`."""
    from crest_edge.synth import synth

    return synth("tiny", tmp_path_factory.mktemp("tiny") / "ckpt", seed=0)


@pytest.fixture(scope="session")
def demo_checkpoint() -> Path:
    """The trained demo checkpoint shipped inside the package."""
    from crest_edge.demo import demo_path

    return demo_path()


@pytest.fixture(scope="session")
def corpus_texts() -> list[str]:
    """The project's multilingual parity corpus texts."""
    from crest_edge.corpus import parity_corpus_path, read_jsonl

    return [row["text"] for row in read_jsonl(parity_corpus_path())]


# One small artifact per engine, built from the tiny checkpoint once per session.
ENGINE_TARGETS = {"torch": None, "ct2": ("ct2", "int8"), "llamacpp": ("gguf", "q8_0"), "onnx": ("onnx", "int8")}


@pytest.fixture(scope="session")
def engine_artifacts(tiny_checkpoint, tmp_path_factory) -> dict:
    from crest_edge.convert import convert

    root = tmp_path_factory.mktemp("engines")
    built = {"torch": tiny_checkpoint}
    for engine, target in ENGINE_TARGETS.items():
        if target:
            fmt, quant = target
            name = f"tiny-{quant}.gguf" if fmt == "gguf" else f"tiny-{fmt}-{quant}"
            built[engine] = convert(tiny_checkpoint, root / name, fmt, quant)
    return built


@pytest.fixture(scope="session", params=list(ENGINE_TARGETS))
def engine_guard(request, engine_artifacts):
    """A Guard on each engine in turn (tiny model, CPU)."""
    from crest_edge import Guard

    # one engine thread: on 2 shared cores, spinning OpenMP pools (torch, llama.cpp) starve each other
    guard = Guard.load(engine_artifacts[request.param], device="cpu", threads=1)
    yield guard
    guard.close()
