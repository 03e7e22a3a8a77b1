"""`crest-edge parity --plot`: per-language agreement and max |Δp| of every candidate, in one picture.

Languages run along the x axis, worst first (by the largest max |Δp| any candidate has there), so the
languages that need attention are on the left. Each candidate's gate is drawn as a dashed line in its
colour; a point beyond its line is a language that on its own would fail the candidate's gate.
"""

from __future__ import annotations

from crest_edge.errors import CrestEdgeError
from crest_edge.extras import require

from . import gates
from .report import name

DP_FLOOR = 1e-6  # max |Δp| of 0 (identical scores) drawn at this height on the log axis


def plot_parity(report: dict, path) -> None:
    cands = [c for c in report["candidates"] if "error" not in c]
    if not cands:
        raise CrestEdgeError("nothing to plot: every candidate failed to run")
    matplotlib = require("matplotlib", "plotting a parity report")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    langs = sorted(
        {lang for c in cands for lang in c["by_lang"]},
        key=lambda lang: -max(c["by_lang"].get(lang, {}).get("max_dp", 0.0) for c in cands),
    )
    x = range(len(langs))
    width = max(8.0, 0.16 * len(langs) + 2)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(width, 7), sharex=True)
    colours = plt.get_cmap("tab10")
    for i, c in enumerate(cands):
        colour = colours(i % 10)
        limits = gates.GATES[c["class"]]
        stats = [c["by_lang"].get(lang) for lang in langs]
        agreement = [100 * s["agreement"] if s else None for s in stats]
        max_dp = [max(s["max_dp"], DP_FLOOR) if s else None for s in stats]
        label = f"{name(c)} [{c['class']}]: {c['overall']['agreement']:.2%}, max |Δp| {c['overall']['max_dp']:.3g}"
        top.plot(x, agreement, "o", ms=3.5, color=colour, label=label)
        bottom.plot(x, max_dp, "o", ms=3.5, color=colour)
        if "agreement" in limits:
            top.axhline(100 * limits["agreement"], ls="--", lw=0.8, color=colour)
        if "max_dp" in limits:
            bottom.axhline(limits["max_dp"], ls="--", lw=0.8, color=colour)
    corpus = report["corpus"]
    top.set_title(f"parity per language on {corpus['name']} ({corpus['n']} texts); dashed: each candidate's gate")
    top.set_ylabel("label agreement (%)")
    top.legend(fontsize=7, loc="lower right")
    bottom.set_yscale("log")
    bottom.set_ylabel("max |Δp(unsafe)|")
    bottom.set_xticks(list(x), langs, rotation=90, fontsize=7)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.margins(x=0.01)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120)
    except OSError as exc:
        raise CrestEdgeError(f"{path}: cannot write the plot ({exc.strerror})") from None
    finally:
        plt.close(fig)
