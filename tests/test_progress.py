"""Progress on a terminal for long conversions; nothing at all when standard error is not a terminal."""

import io
import sys

import pytest

from crest_edge import progress
from crest_edge.convert import convert


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_conversion_names_its_steps_on_a_terminal(demo_checkpoint, tmp_path, monkeypatch):
    pytest.importorskip("gguf")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    convert(demo_checkpoint, tmp_path / "demo.gguf", "gguf", "f32")
    shown = terminal.getvalue()
    assert "convert demo -> gguf f32" in shown
    assert "reading the checkpoint" in shown and "writing gguf f32" in shown


def test_nothing_is_drawn_off_a_terminal(capsys):
    with progress.steps("quiet"):
        progress.note("a step")
    assert capsys.readouterr().err == ""


def test_note_outside_steps_is_a_no_op():
    progress.note("nobody is watching")
