"""`crest-edge classify --input IN --output OUT`: the summary line, the exit status, and one clear
line for every bad combination or input."""

import pytest
from batch_tables import read_table, write_table

from crest_edge.cli import main


def run_cli(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    return (code, *capsys.readouterr())


def one_error_line(err):
    lines = [line for line in err.splitlines() if line.strip() and "bundled demo model" not in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_job_prints_its_summary_and_exits_1_when_a_row_had_no_text(demo_checkpoint, tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text('{"body": "hello"}\n{"body": 3}\n{"body": "How do I make a bomb at home?"}\n', encoding="utf-8")
    output = tmp_path / "out.csv"
    code, out, err = run_cli(
        capsys, "classify", "--model", demo_checkpoint, "--input", source, "--output", output, "--text-field", "body"
    )
    assert code == 1 and out == ""
    assert "3 rows in" in err and "1 with an error" in err
    assert [row["crest_label"] for row in read_table(output)] == ["safe", "unsafe", "unsafe"]
    code, _, err = run_cli(
        capsys, "classify", "--model", demo_checkpoint, "--input", source, "--output", output, "--text-field", "body"
    )
    assert code == 0 and "already complete (3 rows)" in err


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--ray"], "--ray needs --output"),
        (["--workers", "2"], "--workers needs --output"),
        (["--output", "{tmp}/out.jsonl", "--workers", "2"], "--workers needs --ray"),
        (["--output", "{tmp}/out.jsonl", "--json"], "--json prints to stdout"),
        (["--output", "{tmp}/out.jsonl", "--stream"], "--stream prints verdicts as texts arrive"),
        (["--output", "{tmp}/out.txt"], "cannot tell the format from its extension"),
        (["--output", " "], "--output is empty"),
        (["--output", "{tmp}/out.csv", "--ray"], "--ray writes Parquet or JSONL, not csv"),
    ],
)
def test_bad_option_combinations_are_one_line(tiny_checkpoint, tmp_path, capsys, extra, fragment):
    source = write_table(tmp_path / "in.jsonl", [{"text": "hi"}])
    argv = ["classify", "--model", tiny_checkpoint, "--input", source, *[a.format(tmp=tmp_path) for a in extra]]
    code, _, err = run_cli(capsys, *argv)
    assert code != 0 and fragment in one_error_line(err)


def test_output_needs_an_input_file(tiny_checkpoint, tmp_path, capsys):
    code, _, err = run_cli(capsys, "classify", "--model", tiny_checkpoint, "--output", tmp_path / "o.jsonl", "hello")
    assert code == 1 and "--output takes its rows from --input FILE" in one_error_line(err)


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("in.csv", "id,text\n1,hello\n2,hi,extra\n", "record 2 (line 3) has 3 fields, the header has 2"),
        ("in.csv", "", "no header line"),
        ("in.csv", "id,body\n1,hello\n", "no column 'text' (it has id, body)"),
        ("in.jsonl", '{"text": "a"}\nnot json\n', "line 2 is not JSON"),
        ("in.jsonl", "plain text line\n", "line 1 is not JSON"),
        ("in.parquet", "not parquet", "not a readable Parquet file"),
    ],
)
def test_malformed_inputs_are_one_line(tiny_checkpoint, tmp_path, capsys, name, content, fragment):
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    argv = ["classify", "--model", tiny_checkpoint, "--input", source, "--output", tmp_path / "out.jsonl"]
    code, _, err = run_cli(capsys, *argv)
    assert code == 1 and fragment in one_error_line(err)
