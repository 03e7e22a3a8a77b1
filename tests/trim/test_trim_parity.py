"""Faithful where it is used: the trimmed fp32 model against the untrimmed one on the parity corpus
lines of the served languages (which never chose a piece)."""

import pytest

from crest_edge.trim.check import GATES, check_trim, is_served

pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["demo-europe", "demo-indic", "tiny-europe"])
def test_trimmed_model_passes_per_language(name, trimmed, demo_checkpoint, tiny_checkpoint):
    source = {"demo": demo_checkpoint, "tiny": tiny_checkpoint}[name.split("-")[0]]
    report = check_trim(source, trimmed(name).path, threads=1)
    overall = report["overall"]
    assert report["passed"], overall
    assert overall["agreement"] >= GATES["agreement"] and overall["max_dp"] <= GATES["max_dp"]
    assert overall["unchanged_max_dlogit"] <= 1e-5  # same pieces, same rows: the same logits
    assert overall["n"] == sum(f["n"] for f in report["by_lang"].values()) > 100
    assert set(report["by_lang"]) >= set(report["languages"])
    for figures in report["by_lang"].values():
        assert figures["changed_tokenization"] <= figures["n"]
        assert figures.get("agreement", 1.0) >= GATES["agreement"]


def test_changed_tokenizations_are_the_mixed_script_lines(trimmed, demo_checkpoint):
    """On the europe pack, the lines that tokenize differently are the corpus's homoglyph attacks
    (Cyrillic and Greek letters inside Latin words): counted, and left to the coverage guard."""
    report = check_trim(demo_checkpoint, trimmed("demo-europe").path, threads=1)
    overall = report["overall"]
    assert 0 < overall["changed_tokenization"] <= overall["guarded"]


def test_which_lines_are_served():
    europe = ["en", "de", "fr"]
    assert is_served("de", europe, ["Latin"]) and is_served("de-en", europe, ["Latin"])
    assert not is_served("hi-en", europe, ["Latin"]) and not is_served("ru-Latn", europe, ["Latin"])
    assert is_served("hi-Latn", ["hi"], ["Devanagari", "Latin"])
    assert not is_served("hi-Latn", ["hi"], ["Devanagari"])


# Whole-corpus and engine sweeps: the full run (make test) keeps them; make test-fast stays under a minute.
pytestmark = pytest.mark.slow
