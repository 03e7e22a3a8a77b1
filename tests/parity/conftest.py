"""Session fixtures for the parity suite: the fp32 reference run once on the project corpus, and a
small corpus for the CLI tests (the demo artifacts come from tests/conftest.py's build_artifact)."""

from pathlib import Path

import pytest

# One thread per engine: numerics do not depend on it, and llama.cpp's spinning thread barriers slow
# down a hundredfold when other processes share the two cores.
THREADS = 1


@pytest.fixture(scope="session")
def parity_reference(demo_checkpoint):
    """The demo checkpoint's fp32 logits on the project parity corpus, computed once."""
    from crest_edge.parity import run_reference

    return run_reference(demo_checkpoint, threads=THREADS)


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
