"""Render a parity report (the dict run_parity returns) as JSON, markdown, or a console summary."""

from __future__ import annotations

import json
from pathlib import Path

MAX_FLIPS_SHOWN = 20
_GROUP_COLUMNS = (
    "| {key} | n | agreement | flips | near-threshold agreement (n) | max Δp | mean Δp | max Δlogit | RMSE logit |"
)


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False)


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.2%}" if value < 1 else "100%"


def _num(value) -> str:
    return f"{value:.2e}" if 0 < value < 1e-3 else f"{value:.4f}"


def name(candidate: dict) -> str:
    return Path(candidate["path"]).name


def _metrics_cells(s: dict) -> str:
    near = f"{_pct(s['near_agreement'])} ({s['near_n']})"
    return (
        f"{_pct(s['agreement'])} | {s['flips']} | {near} | {_num(s['max_dp'])} | {_num(s['mean_dp'])} | "
        f"{_num(s['max_dlogit'])} | {_num(s['rmse_logit'])}"
    )


def summary_table(report: dict) -> list[str]:
    lines = [
        "| candidate | format | quant | class | engine (device, precision) | agreement | flips | "
        "near-threshold agreement (n) | max Δp | mean Δp | max Δlogit | RMSE logit | gates |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in report["candidates"]:
        if "error" in c:
            lines.append(
                f"| {name(c)} | {c.get('format', '?')} | {c.get('quantization', '?')} | | | "
                f"error: {c['error']} | | | | | | | FAIL |"
            )
            continue
        engine = f"{c['engine']} ({c['device']}, {c['precision']})"
        verdict = "pass" if c["passed"] else "FAIL"
        lines.append(
            f"| {name(c)} | {c['format']} | {c['quantization']} | {c['class']} | {engine} | "
            f"{_metrics_cells(c['overall'])} | {verdict} |"
        )
    return lines


def _matrix(report: dict, group: str, metric: str, fmt) -> list[str]:
    cands = [c for c in report["candidates"] if "error" not in c]
    keys = sorted({k for c in cands for k in c[group]})
    lines = [f"| {group[3:]} | n | " + " | ".join(name(c) for c in cands) + " |", "|---|---|" + "---|" * len(cands)]
    for key in keys:
        n = next((c[group][key]["n"] for c in cands if key in c[group]), 0)
        cells = [fmt(c[group][key][metric]) if key in c[group] else "" for c in cands]
        lines.append(f"| {key} | {n} | " + " | ".join(cells) + " |")
    return lines


def _group_table(groups: dict, key: str) -> list[str]:
    lines = [_GROUP_COLUMNS.format(key=key), "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {k} | {s['n']} | {_metrics_cells(s)} |" for k, s in groups.items()]
    return lines


def _flips(flipped: list[dict]) -> list[str]:
    if not flipped:
        return ["No flipped texts."]
    lines = ["| text | lang | script | ref p(unsafe) | cand p(unsafe) |", "|---|---|---|---|---|"]
    for f in flipped[:MAX_FLIPS_SHOWN]:
        text = f["text"].replace("|", "\\|").replace("\n", " ")
        text = text if len(text) <= 80 else text[:77] + "..."
        lines.append(f"| {text} | {f['lang']} | {f['script']} | {f['ref_p']:.4f} | {f['cand_p']:.4f} |")
    if len(flipped) > MAX_FLIPS_SHOWN:
        lines.append(f"\n({len(flipped) - MAX_FLIPS_SHOWN} more in the JSON report)")
    return lines


def to_markdown(report: dict) -> str:
    corpus, ref = report["corpus"], report["reference"]
    low, high = report["near_band"]
    out = [
        f"# Parity on {corpus['name']} ({corpus['n']} texts, sha256 {corpus['sha256'][:12]})",
        "",
        f"Reference: `{ref['path']}`: {ref['engine']} on {ref['device']} ({ref['precision']}); "
        f"gold-label accuracy {_pct(ref['accuracy'])}. Threshold {report['threshold']}; "
        f"near-threshold texts have reference p(unsafe) in [{low:.2f}, {high:.2f}]. Date {report['date']}.",
        "",
        "## Summary",
        "",
        *summary_table(report),
        "",
    ]
    out += failures(report) or ["Every gate passed."]
    for group, title in (("by_lang", "language"), ("by_script", "script")):
        out += ["", f"## Label agreement by {title}", "", *_matrix(report, group, "agreement", _pct)]
        out += ["", f"## Max |Δp| by {title}", "", *_matrix(report, group, "max_dp", _num)]
    for c in report["candidates"]:
        if "error" in c:
            continue
        out += [
            "",
            f"## {name(c)}",
            "",
            f"`{c['path']}`: {c['engine']} on {c['device']} ({c['precision']}"
            f"{', ' + c['detail'] if c['detail'] else ''}), {c['seconds']} s; gold-label accuracy "
            f"{_pct(c['accuracy'])}.",
            "",
            "Gates: " + "; ".join(f"{'pass' if g['passed'] else 'FAIL'} {g['text']}" for g in c["gates"]),
            "",
        ]
        out += [
            *_group_table(c["by_lang"], "lang"),
            "",
            *_group_table(c["by_script"], "script"),
            "",
            "Flipped texts:",
            "",
            *_flips(c["flipped"]),
        ]
    return "\n".join(out) + "\n"


def failures(report: dict) -> list[str]:
    """One line per failed gate or failed candidate."""
    lines = []
    for c in report["candidates"]:
        if "error" in c:
            lines.append(f"FAILED {name(c)}: {c['error']}")
        lines += [f"FAILED {name(c)} [{c['class']}]: {g['text']}" for g in c["gates"] if not g["passed"]]
    return lines
