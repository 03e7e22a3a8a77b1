"""The command line: outputs, and one clear line plus a non-zero exit for every bad input."""

import json
import shutil
import subprocess
import sys

import pytest

from crest_edge import Guard
from crest_edge.cli import main


def run_cli(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse exits for --help and usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code != 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_help_lists_the_commands(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    for command in ("classify", "tokenize", "convert", "synth", "doctor"):
        assert command in out


def test_classify_json(capsys, tiny_checkpoint):
    code, out, _ = run_cli(capsys, "classify", "--model", tiny_checkpoint, "--json", "hello", "¿qué tal?")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert set(row) == {"line", "label", "score", "probs", "tokens", "windows"}
        assert row["label"] in ("safe", "unsafe") and row["windows"] == 1
    assert [row["line"] for row in rows] == [1, 2]


def test_tokenize_prints_the_ids_engines_get(capsys, tiny_checkpoint):
    code, out, _ = run_cli(capsys, "tokenize", "--model", tiny_checkpoint, "hello world", "")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    guard = Guard.load(tiny_checkpoint)
    assert rows == [guard.token_ids("hello world"), [0, 2]]


def test_input_file_plain_and_jsonl(capsys, tiny_checkpoint, tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("first line\n\nsecond line\n", encoding="utf-8")
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text('{"text": "first line"}\n{"text": "second line", "lang": "en"}\n', encoding="utf-8")
    outputs = []
    for path in (plain, jsonl):
        code, out, _ = run_cli(capsys, "classify", "--model", tiny_checkpoint, "--json", "--input", path)
        assert code == 0
        outputs.append({(row := json.loads(line))["line"]: row["score"] for line in out.splitlines()})
    # the blank plain-text line is a row of its own (the empty text), so rows line up with lines
    assert sorted(outputs[0]) == [1, 2, 3] and sorted(outputs[1]) == [1, 2]
    assert [outputs[0][1], outputs[0][3]] == [outputs[1][1], outputs[1][2]]


def test_stdin_input(tiny_checkpoint):
    done = subprocess.run(
        [sys.executable, "-m", "crest_edge.cli", "tokenize", "--model", str(tiny_checkpoint), "--input", "-"],
        input=b"one\ntwo\n",
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.decode().splitlines()) == 2


def test_non_utf8_input_file(capsys, tiny_checkpoint, tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9\n".encode("latin-1"))
    code, _, err = run_cli(capsys, "classify", "--model", tiny_checkpoint, "--input", bad)
    assert_one_line_error(code, err, "not UTF-8", "0xe9")


def test_missing_input_file(capsys, tiny_checkpoint, tmp_path):
    code, _, err = run_cli(capsys, "classify", "--model", tiny_checkpoint, "--input", tmp_path / "nope.txt")
    assert_one_line_error(code, err, "no such file")


def test_missing_model_directory(capsys, tmp_path):
    code, _, err = run_cli(capsys, "classify", "--model", tmp_path / "absent", "hi")
    assert_one_line_error(code, err, "no such file or directory")


def test_hub_id_says_it_needs_internet(capsys):
    code, _, err = run_cli(capsys, "classify", "--model", "repelloai/CREST-Base", "hi")
    assert_one_line_error(code, err, "hub id", "internet")


@pytest.fixture
def broken_copy(tiny_checkpoint, tmp_path):
    def make(mutate):
        target = tmp_path / "broken"
        shutil.copytree(tiny_checkpoint, target)
        mutate(target)
        return target

    return make


def test_corrupt_config(capsys, broken_copy):
    path = broken_copy(lambda d: (d / "config.json").write_text("{not json", encoding="utf-8"))
    code, _, err = run_cli(capsys, "classify", "--model", path, "hi")
    assert_one_line_error(code, err, "config.json", "corrupt")


def test_config_that_is_not_xlmr_classification(capsys, broken_copy):
    def to_bert(d):
        config = json.loads((d / "config.json").read_text())
        config.update(model_type="bert", architectures=["BertForMaskedLM"])
        (d / "config.json").write_text(json.dumps(config))

    code, _, err = run_cli(capsys, "classify", "--model", broken_copy(to_bert), "hi")
    assert_one_line_error(code, err, "not an XLM-R sequence classifier")


def test_missing_tokenizer(capsys, broken_copy):
    path = broken_copy(lambda d: (d / "sentencepiece.bpe.model").unlink())
    code, _, err = run_cli(capsys, "classify", "--model", path, "hi")
    assert_one_line_error(code, err, "no tokenizer")


def test_corrupt_weights(capsys, broken_copy):
    path = broken_copy(lambda d: (d / "model.safetensors").write_bytes(b"\x00" * 64))
    code, _, err = run_cli(capsys, "convert", path, "--to", "ct2", "--quant", "int8", "--out", path.parent / "o")
    assert_one_line_error(code, err, "model.safetensors")


def test_unknown_option_value(capsys, tiny_checkpoint):
    code, _, err = run_cli(capsys, "classify", "--model", tiny_checkpoint, "--device", "tpu", "hi")
    assert_one_line_error(code, err, "invalid choice: 'tpu'")
    code, _, err = run_cli(capsys, "classify", "--model", tiny_checkpoint, "--threshold", "2", "hi")
    assert_one_line_error(code, err, "between 0 and 1")


def test_convert_refuses_unknown_quant_and_existing_output(capsys, tiny_checkpoint, tmp_path):
    code, _, err = run_cli(
        capsys, "convert", tiny_checkpoint, "--to", "gguf", "--quant", "q3_xyz", "--out", tmp_path / "x.gguf"
    )
    assert_one_line_error(code, err, "q3_xyz")
    (tmp_path / "exists").mkdir()
    code, _, err = run_cli(
        capsys, "convert", tiny_checkpoint, "--to", "ct2", "--quant", "int8", "--out", tmp_path / "exists"
    )
    assert_one_line_error(code, err, "--force")


def test_doctor_json(capsys):
    code, out, _ = run_cli(capsys, "doctor", "--json")
    assert code == 0
    report = json.loads(out)
    assert {"cpu", "engines", "python"} <= set(report)
    assert set(report["engines"]) == {"torch", "ct2", "llamacpp", "onnx", "openvino"}
    openvino = report["engines"]["openvino"]
    if openvino["installed"]:  # each device OpenVINO lists, with what it computes in (AMX for the CPU)
        assert "CPU" in openvino["device_capabilities"]
        assert "AMX" in openvino["device_capabilities"]["CPU"]


def test_empty_input_file(capsys, tiny_checkpoint, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "classify", "--model", tiny_checkpoint, "--input", empty)
    assert_one_line_error(code, err, "no texts")
