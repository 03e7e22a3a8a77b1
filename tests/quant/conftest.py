"""Session fixtures for the quantization suite: the outlier stress checkpoint (`crest-edge synth --shape
tiny --outliers`), built once, its fp32 reference run on the project corpus, and its artifacts (the demo
checkpoint's are tests/conftest.py's `build_artifact`)."""

from pathlib import Path

import pytest
from quant_helpers import runnable

THREADS = 1  # as in tests/parity: llama.cpp's spinning barriers crawl when the 2 cores are shared


@pytest.fixture(scope="session")
def stress_checkpoint(tmp_path_factory) -> Path:
    from crest_edge.devtools.synth import synth

    return synth("tiny", tmp_path_factory.mktemp("stress") / "ckpt", seed=0, outliers=True)


@pytest.fixture(scope="session")
def stress_reference(stress_checkpoint):
    from crest_edge.parity import run_reference

    return run_reference(stress_checkpoint, threads=THREADS)


def _builder(checkpoint: Path, root: Path, stem: str):
    """build(to, quant) -> path, converting `checkpoint` once per (to, quant)."""
    from crest_edge.convert import convert

    built: dict[tuple[str, str], Path] = {}

    def build(to: str, quant: str) -> Path:
        if (to, quant) not in built:
            name = f"{stem}.{quant}.gguf" if to == "gguf" else f"{stem}-{to}-{quant}"
            built[to, quant] = convert(checkpoint, root / name, to, quant)
        return built[to, quant]

    return build


@pytest.fixture(scope="session")
def build_stress_artifact(stress_checkpoint, tmp_path_factory):
    """build_stress_artifact(to, quant) -> path, converting the stress checkpoint once per session."""
    return _builder(stress_checkpoint, tmp_path_factory.mktemp("stress-artifacts"), "stress")


@pytest.fixture(scope="session")
def demo_artifacts(build_artifact):
    """Every format and precision of the demo checkpoint, each converted on first use (shared cache)."""
    return runnable(build_artifact)


@pytest.fixture(scope="session")
def stress_artifacts(build_stress_artifact):
    """Every format and precision of the stress checkpoint, each converted on first use (shared cache)."""
    return runnable(build_stress_artifact)


@pytest.fixture(scope="session")
def mixed_length_texts(corpus_texts) -> list[str]:
    """Every 7th parity-corpus text: all its languages and scripts, short and long, so each chunk of a
    batch call pads its rows to a different length."""
    return corpus_texts[::7]
