"""`--quant auto-8bit|auto-4bit`: every candidate of the class is converted, gated on the calibration set
and timed; the fastest that passes is kept, and its manifest says what was tried and why it won."""

import json

import pytest

pytest.importorskip("transformers")  # the fp32 reference

from crest_edge.autoquant import auto_class, convert_auto
from crest_edge.cli import main
from crest_edge.data import read_jsonl, seed_corpus_path
from crest_edge.errors import ConversionError
from crest_edge.formats import gguf as gguf_format
from crest_edge.formats.artifact import open_artifact
from crest_edge.parity import gates
from crest_edge.registry import FORMATS


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    """Every 6th seed text: every language of the seed set, a quick reference run."""
    path = tmp_path_factory.mktemp("calibration") / "calibration.jsonl"
    rows = read_jsonl(seed_corpus_path())[::6]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_auto_spellings_name_a_class():
    assert auto_class("auto-8bit") == "8-bit" and auto_class("auto-4bit") == "4-bit"
    assert auto_class("q8_0") is None
    for spec in FORMATS.values():
        for klass, tried in spec.auto.items():
            assert tried and all(gates.precision_class(q) == klass for q, _ in tried), spec.name


@pytest.mark.slow
def test_fastest_passing_candidate_is_kept_and_recorded(demo_checkpoint, calibration, tmp_path):
    pytest.importorskip("llama_cpp")
    out = convert_auto(demo_checkpoint, tmp_path / "auto.gguf", "gguf", "auto-4bit", calibration=calibration, threads=1)
    artifact = open_artifact(out, verify="full")  # whole after the selection was recorded
    selection, parity = artifact.manifest.selection, artifact.manifest.parity
    assert [t["quant"] for t in selection["tried"]] == [q for q, _ in FORMATS["gguf"].auto["4-bit"]]
    passing = [t for t in selection["tried"] if t["passed"]]
    assert passing and selection["chosen"] == min(passing, key=lambda t: t["ms"])["candidate"]
    chosen = next(t for t in selection["tried"] if t["candidate"] == selection["chosen"])
    assert artifact.manifest.quantization == chosen["quant"]
    assert artifact.manifest.quantization_recipe["tensor_types"] == chosen["options"].get(
        "tensor_types", gguf_format.TYPE_RECIPES.get(chosen["quant"], {})
    )
    assert selection["calibration"]["name"] == "calibration.jsonl" and parity["gates_passed"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["auto.gguf"]  # the losers are gone


@pytest.mark.slow
def test_no_passing_candidate_writes_nothing(demo_checkpoint, calibration, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setitem(gates.GATES, "4-bit", {"agreement": 1.0, "max_dp": 1e-12})
    expected = r"no onnx 4-bit candidate passes on calibration.jsonl \(agreement 100%, max \|Δp\| <= 5e-13\): int4"
    with pytest.raises(ConversionError, match=expected):
        convert_auto(demo_checkpoint, tmp_path / "auto", "onnx", "auto-4bit", calibration=calibration, threads=1)
    assert list(tmp_path.iterdir()) == []


def test_a_class_the_format_lacks_is_one_clear_line(demo_checkpoint, tmp_path, capsys):
    rc = main(["convert", str(demo_checkpoint), "--to", "ct2", "--quant", "auto-4bit", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc != 0 and "auto-4bit is not available for ct2; choose from auto-8bit" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_cli_auto_8bit_prints_every_trial(demo_checkpoint, calibration, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    out = tmp_path / "onnx-auto"
    rc = main(
        ["convert", str(demo_checkpoint), "--to", "onnx", "--quant", "auto-8bit", "--out", str(out)]
        + ["--calibration", str(calibration), "--threads", "1"]
    )
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "pass int8" in printed and "chose int8" in printed and f"wrote {out}" in printed
