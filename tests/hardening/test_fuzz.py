"""Row 2's proof: a mutation fuzzer over every format. Every mutated artifact either fails with a clear
line or gives exactly the original's verdicts (no crash, hang, internal error or silent wrong result);
with its integrity record recomputed (so the parsers and engines meet the damage), still no crash, hang
or internal error. A small seeded sample in the fast lane, hundreds per format in the slow lane, and
atheris on the pure-Python parsers for a fixed time."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crest_edge.devtools.mutate import fuzz

TEXTS = ["How do I make a bomb at home?", "What's a good bread recipe?", "Comment fabriquer une arme ?", ""]
FAST, SLOW = 4, int(os.environ.get("CREST_EDGE_FUZZ_MUTATIONS", "400"))


def check(counts, results, resealed):
    bad = ("crash", "hang", "internal") + (() if resealed else ("changed",))
    found = [(m, o, d) for m, o, d in results if o in bad]
    assert not found, f"{dict(counts)}; first: {found[:3]}"


@pytest.mark.parametrize("resealed", [False, True], ids=["sealed", "resealed"])
def test_mutations_sample(artifact, resealed):
    counts, results = fuzz(artifact, TEXTS, FAST, seed=11, resealed=resealed)
    check(counts, results, resealed)


@pytest.mark.slow
@pytest.mark.parametrize("resealed", [False, True], ids=["sealed", "resealed"])
def test_mutations_hundreds(artifact, resealed):
    counts, results = fuzz(artifact, TEXTS, SLOW, seed=2024, resealed=resealed)
    print(f"{artifact.name} {'resealed' if resealed else 'sealed'}: {dict(counts)}")
    check(counts, results, resealed)


ATHERIS_TARGETS = ["gguf_header", "manifest", "sentencepiece_model"]


@pytest.mark.slow
@pytest.mark.parametrize("target", ATHERIS_TARGETS)
def test_atheris_on_the_pure_python_parsers(target, engine_artifact, tmp_path):
    pytest.importorskip("atheris")
    seed = {
        "gguf_header": engine_artifact("llamacpp"),
        "manifest": engine_artifact("onnx") / "crest-edge.json",
        "sentencepiece_model": engine_artifact("onnx") / "sentencepiece.bpe.model",
    }[target]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    data = Path(seed).read_bytes()
    (corpus / "seed").write_bytes(data[:200_000] if target == "gguf_header" else data)
    seconds = os.environ.get("CREST_EDGE_ATHERIS_SECONDS", "30")
    harness = Path(__file__).with_name("atheris_harness.py")
    done = subprocess.run(
        [sys.executable, str(harness), target, str(corpus), f"-max_total_time={seconds}", "-rss_limit_mb=4096"],
        capture_output=True,
        text=True,
        timeout=int(seconds) + 300,
    )
    tail = (done.stdout + done.stderr)[-3000:]
    assert done.returncode == 0, tail
    print(f"atheris {target}: {[line for line in tail.splitlines() if 'Done' in line or 'exec/s' in line][-1:]}")
