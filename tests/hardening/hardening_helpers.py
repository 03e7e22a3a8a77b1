"""Helpers shared by the fail-closed tests."""

import sys

PYTHON = sys.executable
FORMAT_ENGINES = {"ct2": "ct2", "gguf": "llamacpp", "onnx": "onnx"}


def run_cli(capsys, *argv):
    from crest_edge.cli import main

    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse exits for usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, *fragments):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code != 0 and len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]
