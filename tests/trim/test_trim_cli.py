"""`crest-edge trim`: what it prints, and one clear line plus a non-zero exit for every bad input."""

import pytest

from crest_edge.cli import main
from crest_edge.trim.record import read_trim_record


def run_cli(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse exits for usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, fragment):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code != 0 and len(lines) == 1 and "Traceback" not in err, err
    assert fragment in lines[0], lines[0]


def test_trim_writes_and_says_what_it_kept(capsys, demo_checkpoint, tmp_path):
    code, out, err = run_cli(
        capsys, "trim", demo_checkpoint, "--out", tmp_path / "t", "--languages", "de,fr", "--keep", 10
    )
    assert code == 0, err
    assert out.startswith(f"wrote {tmp_path / 't'}: ") and "of 4,000 pieces kept" in out and "scripts Latin" in out
    record = read_trim_record(tmp_path / "t")
    assert record["languages"] == ["de", "fr"] and record["sources"] == ["script", "keep"]


@pytest.mark.parametrize(
    "args,fragment",
    [
        ([], "give --languages or --corpus"),
        (["--languages", "klingon"], "unknown language or pack 'klingon'"),
        (["--corpus", "/nonexistent.jsonl"], "/nonexistent.jsonl: no such file"),
        (["--languages", "en", "--keep", "-1"], "argument --keep"),
    ],
)
def test_bad_input_is_one_line(capsys, demo_checkpoint, tmp_path, args, fragment):
    code, _, err = run_cli(capsys, "trim", demo_checkpoint, "--out", tmp_path / "t", *args)
    one_line_error(code, err, fragment)


def test_not_a_checkpoint(capsys, tmp_path):
    (tmp_path / "src").mkdir()
    code, _, err = run_cli(capsys, "trim", tmp_path / "src", "--out", tmp_path / "t", "--languages", "en")
    one_line_error(code, err, "no config.json")


@pytest.mark.slow
def test_check_prints_parity_per_language(capsys, demo_checkpoint, tmp_path):
    pytest.importorskip("torch")
    code, out, err = run_cli(
        capsys, "trim", demo_checkpoint, "--out", tmp_path / "t", "--languages", "indic", "--check", "--threads", 1
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].split()[:4] == ["lang", "n", "changed", "guarded"]
    assert {ln.split()[0] for ln in lines[2:-1]} >= {"hi", "bn", "ta", "all"}
    assert lines[-1].startswith("PASS: ")
