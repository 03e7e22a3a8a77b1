"""A text's GGUF score does not depend on the texts packed beside it in one llama_encode: |Δp| <= 1e-4
between scoring each text alone and in packs (<= 1e-5 for f32), on the demo and the stress checkpoint."""

import numpy as np
import pytest

from crest_edge.formats.artifact import open_artifact
from crest_edge.verdict import softmax

pytest.importorskip("gguf")
pytest.importorskip("llama_cpp")

LIMIT = {"f32": 1e-5}
TEXTS = 120  # every 12th parity text: all scripts, short and long


@pytest.fixture(scope="module")
def packed_and_alone(corpus_texts):
    from crest_edge.runtimes import llamacpp

    def measure(path) -> float:
        artifact = open_artifact(path)
        tokenizer = artifact.tokenizer()
        seqs = [[0, *tokenizer.encode(t)[:510], 2] for t in corpus_texts[:: len(corpus_texts) // TEXTS]]
        engine = llamacpp.open_engine(artifact, "cpu", threads=1)
        try:
            alone = np.concatenate([engine.logits([s]) for s in seqs])
            packed = np.concatenate([engine.logits(seqs[i : i + 32]) for i in range(0, len(seqs), 32)])
        finally:
            engine.close()
        return float(np.abs(softmax(alone)[:, 1] - softmax(packed)[:, 1]).max())

    return measure


@pytest.mark.slow
@pytest.mark.parametrize("quant", ["f32", "q8_0", "q4_k_m"])
def test_demo_scores_do_not_depend_on_batch_neighbours(quant, build_artifact, packed_and_alone):
    assert packed_and_alone(build_artifact("gguf", quant)) <= LIMIT.get(quant, 1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("quant", ["q8_0", "q4_0"])
def test_stress_scores_do_not_depend_on_batch_neighbours(quant, build_stress_artifact, packed_and_alone):
    assert packed_and_alone(build_stress_artifact("gguf", quant)) <= 1e-4
