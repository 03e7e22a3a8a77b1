"""Issue 6: every engine behind one Guard gives defined results for awkward input, and is thread-safe."""

import json
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

from crest_edge import Guard

AWKWARD = {
    "empty": "",
    "spaces": "   \n\t  ",
    "lone surrogates": "abc\ud800def\udfff",
    "NUL and controls": "a\x00b\x01c\x1b[31m\x7f\u200b\u200d\ufeff",
    "emoji ZWJ": "👩‍👩‍👧‍👦 🏳️‍🌈",
}


@pytest.fixture(scope="module")
def reference_guard(engine_artifact):
    with Guard.load(engine_artifact("torch"), device="cpu", threads=1) as guard:
        yield guard


@pytest.mark.parametrize("case", list(AWKWARD))
def test_awkward_text_gets_a_verdict(engine_guard, reference_guard, case):
    """The verdict every engine gives is the reference's: same ids, same windows, score within the
    tiny model's int8 noise (the 8-bit artifacts differ from fp32 by < 0.02 on it), probabilities summing to 1."""
    text = AWKWARD[case]
    verdict, expected = engine_guard.classify(text), reference_guard.classify(text)
    assert engine_guard.token_ids(text) == reference_guard.token_ids(text)
    assert (verdict.tokens, verdict.windows) == (len(reference_guard.token_ids(text)), 1)
    assert verdict.score == pytest.approx(expected.score, abs=0.02)
    assert sum(verdict.probs.values()) == pytest.approx(1.0) and verdict.probs["unsafe"] == verdict.score
    assert verdict.label == ("unsafe" if verdict.score >= engine_guard.threshold else "safe")


def test_non_strings_are_type_errors(engine_guard):
    for bad in (None, 42, b"bytes"):
        with pytest.raises(TypeError):
            engine_guard.classify(bad)


@pytest.mark.slow
def test_one_megabyte_text_is_windowed(engine_guard):
    # Mostly runic words, which the model's vocabulary lacks (one <unk> per word), so a 1 MB text
    # stays a few hundred windows on every engine; ordinary prose at both ends.
    word = "".join(chr(0x16A0 + i % 80) for i in range(40))
    text = "Ceci est une phrase ordinaire. " * 100 + " ".join([word] * 24_000) + " Et la fin du texte."
    assert len(text.encode("utf-8")) > 1_000_000
    verdict = engine_guard.classify(text)
    assert verdict.tokens > 512 and verdict.windows > 100
    assert verdict.tokens == len(engine_guard.token_ids(text))


@pytest.mark.slow
def test_ten_thousand_texts_in_one_batch(engine_guard):
    texts = [f"message number {i} about the weather" for i in range(10_000)]
    verdicts = engine_guard.classify_batch(texts)
    assert len(verdicts) == 10_000
    assert verdicts[0].score == pytest.approx(engine_guard.classify(texts[0]).score, abs=0.02)


def test_eight_threads_match_a_sequential_run(engine_guard):
    texts = [f"{word} number {i}" for i, word in enumerate(["hello", "bonjour", "hola", "привет"] * 16)]

    def run_all():
        # the same chunks every time: dynamic int8 engines scale activations per batch
        return np.concatenate([engine_guard.logits(texts[i : i + 5]) for i in range(0, len(texts), 5)])

    expected = run_all()
    results, errors = [None] * 8, []

    def work(slot):
        try:
            results[slot] = run_all()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got in results:
        assert np.array_equal(got, expected)


def test_same_verdicts_from_every_engine(engine_artifact, engine):
    """Every engine applies the same tokenizer, windows and verdict logic (tiny model, loose tolerance
    for int8 / q8_0 engines)."""
    texts = ["hello world", "x" * 3000, "Как дела?"]
    with Guard.load(engine_artifact("torch"), threads=1) as reference_guard:
        reference = reference_guard.classify_batch(texts)
    with Guard.load(engine_artifact(engine), threads=1) as guard:
        assert guard.info.engine == engine
        got = guard.classify_batch(texts)
    for ref, cand in zip(reference, got):
        assert (cand.tokens, cand.windows) == (ref.tokens, ref.windows)
        assert abs(cand.score - ref.score) < 0.05


@pytest.mark.parametrize("engine", ["ct2", "onnx"])
def test_artifact_whose_files_do_not_match_the_manifest(engine_artifact, tmp_path, engine):
    from crest_edge import ArtifactError

    copy = tmp_path / engine
    shutil.copytree(engine_artifact(engine), copy)
    weights = max((p for p in copy.iterdir() if p.suffix in (".bin", ".onnx", ".data")), key=lambda p: p.stat().st_size)
    with open(weights, "r+b") as handle:
        handle.truncate(weights.stat().st_size // 2)
    with pytest.raises(ArtifactError, match=weights.name):
        Guard.load(copy)


def test_cpu_isa_can_be_forced_lower_for_ct2(engine_artifact):
    """CT2 picks its ISA once per process, so the forced run happens in a fresh one."""
    script = (
        "import json; from crest_edge import Guard; "
        f"g = Guard.load({str(engine_artifact('ct2'))!r}, cpu_isa='AVX2', threads=1); "
        "print(json.dumps(g.logits(['hello world', 'Как дела?']).tolist()))"
    )
    env = dict(os.environ, CT2_VERBOSE="1")  # CT2 logs the ISA it selected at info level
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert "AVX2" in done.stderr  # CT2's own log names the ISA it selected
    forced = np.array(json.loads(done.stdout.strip().splitlines()[-1]))
    with Guard.load(engine_artifact("ct2"), threads=1) as native:
        assert np.allclose(forced, native.logits(["hello world", "Как дела?"]), atol=0.05)


@pytest.mark.parametrize("engine", ["llamacpp", "onnx", "torch"])
def test_cpu_isa_is_refused_by_engines_that_cannot_force_it(engine_artifact, engine):
    from crest_edge import DeviceError

    with pytest.raises(DeviceError, match="cannot force a CPU ISA"):
        Guard.load(engine_artifact(engine), cpu_isa="AVX2")
