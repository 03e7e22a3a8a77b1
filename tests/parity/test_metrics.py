"""Parity metrics, gates and rendering on hand-made logits: no engine needed."""

import json

import numpy as np
import pytest

from crest_edge.cli.argtypes import fraction
from crest_edge.errors import CrestEdgeError
from crest_edge.parity import gates, metrics, report
from crest_edge.parity.run import compare

LABELS = ["safe", "unsafe"]


def _logits(p_unsafe):
    p = np.asarray(p_unsafe, dtype=np.float64)
    return np.stack([np.zeros_like(p), np.log(p / (1 - p))], axis=1)


def test_summarize_counts_flips_and_errors():
    ref = _logits([0.1, 0.45, 0.55, 0.9])
    cand = _logits([0.1, 0.52, 0.55, 0.8])
    s = metrics.summarize(ref, cand, positive=1)
    assert (s["n"], s["agree"], s["flips"]) == (4, 3, 1)
    assert s["agreement"] == pytest.approx(0.75)
    assert s["max_dp"] == pytest.approx(0.1)
    assert s["mean_dp"] == pytest.approx((0.07 + 0.1) / 4)
    assert s["max_dlogit"] == pytest.approx(abs(np.log(0.9 / 0.1) - np.log(0.8 / 0.2)))
    # near the threshold: ref p in [0.4, 0.6] -> texts 1 and 2, one of which flipped
    assert s["near_n"] == 2 and s["near_agreement"] == pytest.approx(0.5)


def test_identical_logits_are_perfect_and_no_near_texts_is_none():
    ref = _logits([0.01, 0.99])
    s = metrics.summarize(ref, ref, positive=1)
    assert s["agreement"] == 1.0 and s["max_dp"] == 0.0 and s["rmse_logit"] == 0.0
    assert s["near_n"] == 0 and s["near_agreement"] is None


def test_threshold_decides_labels_like_verdicts():
    from crest_edge.verdict import decide

    probs = metrics.softmax(_logits([0.3, 0.5, 0.7]))
    expected = [LABELS.index(decide(np.log(row[None]), LABELS, 0.5, 3).label) for row in probs]
    assert metrics.decide_labels(probs, 1, 0.5).tolist() == expected == [0, 1, 1]


def test_groups_flips_and_gold_accuracy():
    rows = [
        {"text": f"t{i}", "lang": lang, "script": "Latin", "label": label}
        for i, (lang, label) in enumerate([("en", "safe"), ("en", 1), ("fr", "unknown"), ("fr", "unsafe")])
    ]
    ref, cand = _logits([0.2, 0.7, 0.49, 0.8]), _logits([0.2, 0.7, 0.51, 0.8])
    out = compare(rows, ref, cand, LABELS)
    assert out["by_lang"]["en"]["agreement"] == 1.0 and out["by_lang"]["fr"]["flips"] == 1
    assert out["by_script"]["Latin"]["n"] == 4
    assert [f["text"] for f in out["flipped"]] == ["t2"]
    assert out["flipped"][0]["ref_label"] == "safe" and out["flipped"][0]["cand_label"] == "unsafe"
    assert out["accuracy"] == 1.0  # 3 gold labels known (1 is the integer for "unsafe"), all right


def test_precision_classes():
    assert gates.precision_class("FLOAT32") == "fp32"
    assert gates.precision_class("int16") == "16-bit"
    assert gates.precision_class("f32") == "16-bit"  # gguf f32: llama.cpp's GELU runs through an fp16 table
    assert gates.precision_class("int8_float32") == gates.precision_class("q8_0") == "8-bit"
    assert gates.precision_class("q6_k") == "5/6-bit"
    assert gates.precision_class("int4") == gates.precision_class("q4_k_m") == "4-bit"
    with pytest.raises(CrestEdgeError, match="q3_k"):
        gates.precision_class("q3_k")
    # an int16 artifact that the engine ran as int8 is gated as 8-bit
    assert gates.effective_class("int16", "int8_float32") == "8-bit"
    assert gates.effective_class("q4_0", "q4_0 (llama.cpp)") == "4-bit"


def test_gates_check_and_overrides():
    summary = {"agreement": 0.996, "max_dp": 0.06, "max_dlogit": 0.2}
    results = gates.check(summary, gates.gate_limits("8-bit"))
    assert [(r.metric, r.passed) for r in results] == [("agreement", True), ("max_dp", False)]
    assert "max |Δp| 0.06" in results[1].describe()
    limits = gates.gate_limits("8-bit", {"max_dp": 0.1, "max_dlogit": 0.1, "agreement": None})
    assert limits == {"agreement": 0.995, "max_dp": 0.1, "max_dlogit": 0.1}
    assert not all(r.passed for r in gates.check(summary, limits))
    assert fraction("99.5%") == pytest.approx(0.995) and fraction("1") == 1.0


def test_report_renders_and_lists_failures():
    rows = [
        {"text": "a|b", "lang": "en", "script": "Latin", "label": "safe"},
        {"text": "c", "lang": "zh", "script": "Han", "label": "unsafe"},
    ]
    ref, cand = _logits([0.45, 0.9]), _logits([0.55, 0.9])
    cand_entry = {
        "path": "/x/model.q4_0.gguf",
        "format": "gguf",
        "quantization": "q4_0",
        "engine": "llamacpp",
        "device": "cpu",
        "precision": "q4_0",
        "detail": "",
        "seconds": 0.1,
        "class": "4-bit",
        **compare(rows, ref, cand, LABELS),
    }
    results = gates.check(cand_entry["overall"], gates.gate_limits("4-bit"))
    cand_entry["gates"] = [{**vars(r), "text": r.describe()} for r in results]
    cand_entry["passed"] = False
    rep = {
        "date": "2025-01-01",
        "corpus": {"name": "c.jsonl", "path": "c.jsonl", "sha256": "ab" * 32, "n": 2},
        "threshold": 0.5,
        "near_band": [0.4, 0.6],
        "candidates": [cand_entry],
        "reference": {"path": "ref", "engine": "torch", "device": "cpu", "precision": "float32", "accuracy": 0.5},
    }
    md = report.to_markdown(rep)
    assert "| model.q4_0.gguf | gguf | q4_0 | 4-bit |" in md and "a\\|b" in md
    assert report.failures(rep) == ["FAILED model.q4_0.gguf [4-bit]: label agreement 50.0000% (needs >= 98.00%)"]
    assert json.loads(report.to_json(rep))["candidates"][0]["flipped"][0]["text"] == "a|b"
