"""Session fixtures for the parity suite: the fp32 reference run once on the project corpus, and
each demo-checkpoint artifact converted once, on first use, into one temporary directory."""

from pathlib import Path

import pytest

# One thread per engine: numerics do not depend on it, and llama.cpp's spinning thread barriers slow
# down a hundredfold when other processes share the two cores.
THREADS = 1


def artifact_name(to: str, quant: str) -> str:
    return f"demo.{quant}.gguf" if to == "gguf" else f"demo-{to}-{quant}"


@pytest.fixture(scope="session")
def parity_reference(demo_checkpoint):
    """The demo checkpoint's fp32 logits on the project parity corpus, computed once."""
    from crest_edge.parity import run_reference

    return run_reference(demo_checkpoint, threads=THREADS)


@pytest.fixture(scope="session")
def build_artifact(demo_checkpoint, tmp_path_factory):
    """build_artifact(to, quant) -> path, converting the demo checkpoint once per session."""
    from crest_edge.convert import convert

    root = tmp_path_factory.mktemp("parity-artifacts")
    built: dict[tuple[str, str], Path] = {}

    def build(to: str, quant: str) -> Path:
        if (to, quant) not in built:
            built[to, quant] = convert(demo_checkpoint, root / artifact_name(to, quant), to, quant)
        return built[to, quant]

    return build


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """Every 8th row of the project corpus (all its languages and scripts), for the CLI tests,
    which run their own reference."""
    import json

    from crest_edge.data import parity_corpus_path, read_jsonl

    path = tmp_path_factory.mktemp("corpus") / "small.jsonl"
    rows = read_jsonl(parity_corpus_path())[::8]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path
