"""Progress on a terminal for the long steps (converting a base- or large-shaped model takes minutes).

`steps(desc)` is one status line that counts steps and redraws every second, so a step that runs for
a minute inside an engine (an ONNX export, llama.cpp's quantizer) still shows time passing;
`note(text)` names the step now starting, from anywhere below it (a converter needs no extra
argument). Nothing is drawn unless standard error is a terminal.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import threading

_current = contextvars.ContextVar("crest_edge_progress", default=None)
REDRAW_SECONDS = 1.0


@contextlib.contextmanager
def steps(desc: str):
    from tqdm import tqdm

    bar = tqdm(
        desc=desc, unit="step", file=sys.stderr, disable=None, bar_format="{desc}: step {n} {postfix} [{elapsed}]"
    )
    stop = threading.Event()

    def redraw():
        while not stop.wait(REDRAW_SECONDS):
            bar.refresh()

    ticker = threading.Thread(target=redraw, daemon=True)
    if not bar.disable:
        ticker.start()
    token = _current.set(bar)
    try:
        yield bar
    finally:
        _current.reset(token)
        stop.set()
        if ticker.is_alive():
            ticker.join()
        bar.close()


def note(text: str) -> None:
    """Name the step starting now (counting it); a no-op outside `steps`."""
    bar = _current.get()
    if bar is not None:
        bar.update(1)
        bar.set_postfix_str(text)
