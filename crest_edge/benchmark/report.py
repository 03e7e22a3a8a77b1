"""What a benchmark run reports: derived numbers, the machine, markdown, JSON and the plot."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys

from crest_edge.formats.manifest import engine_versions

PACKAGES = (
    "crest-edge",
    "numpy",
    "torch",
    "transformers",
    "ctranslate2",
    "llama-cpp-python",
    "gguf",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnx",
)
PEER_LABELS = {
    "torch": "transformers fp32 (peer)",
    "onnx-plain": "plain ORT int8 (peer)",
    "openvino-raw": "OpenVINO, fp32 ONNX as read (peer)",
    "openvino-nncf": "OpenVINO + NNCF int8, defaults (peer)",
}


def derive(configs: list[dict]) -> None:
    """Add per-workload latency, throughput, overhead and the ratio to transformers fp32 (same run)."""
    reference = next((c for c in configs if c["name"] == "torch" and not c.get("error")), None)
    ref_rows = {(w["batch"], w["length"]): w for w in reference["workloads"]} if reference else {}
    for config in configs:
        for w in config.get("workloads", []):
            g, e = w["guard_ms"], w["engine_ms"]
            w["median_ms"], w["p95_ms"] = g["median"], g["p95"]
            w["texts_per_s"] = w["batch"] / (g["mean"] / 1e3)  # work done over time spent, all repeats
            w["tokens_per_s"] = w["texts_per_s"] * w["length"]
            w["engine_median_ms"] = e["median"]
            w["overhead_pct"] = (g["median"] - e["median"]) / e["median"] * 100
            ref = ref_rows.get((w["batch"], w["length"]))
            w["speedup_vs_fp32"] = ref["guard_ms"]["median"] / g["median"] if ref else None
            ref_throughput = ref["batch"] / (ref["guard_ms"]["mean"] / 1e3) if ref else None
            w["throughput_vs_fp32"] = w["texts_per_s"] / ref_throughput if ref else None


def fastest(configs: list[dict], workloads) -> dict[str, str]:
    """Per workload, the crest-edge configuration (peers excluded) with the lowest median latency:
    what to ship for this machine, measured rather than guessed."""
    best = {}
    for batch, length in workloads:
        timed = [
            (w["median_ms"], c["name"])
            for c in configs
            if c["name"] not in PEER_LABELS and not c.get("error")
            for w in c.get("workloads", [])
            if (w["batch"], w["length"]) == (batch, length)
        ]
        if timed:
            best[f"{batch}x{length}"] = min(timed)[1]
    return best


def against_peers(configs: list[dict], workloads) -> dict[str, dict]:
    """Per workload, crest-edge's fastest configuration against the fastest peer, on the raw engine call
    (the engine's median ms; the peers' runners pad and call their session the same way):
    {"1x128": {"fastest": name, "best_peer": name, "ratio": peer ms / crest-edge ms}}."""
    found = {}
    for batch, length in workloads:
        timed = [
            (w["engine_median_ms"], c["name"])
            for c in configs
            if not c.get("error")
            for w in c.get("workloads", [])
            if (w["batch"], w["length"]) == (batch, length)
        ]
        ours = [t for t in timed if t[1] not in PEER_LABELS]
        peers = [t for t in timed if t[1] in PEER_LABELS]
        if ours and peers:
            (ms, name), (peer_ms, peer) = min(ours), min(peers)
            found[f"{batch}x{length}"] = {"fastest": name, "best_peer": peer, "ratio": peer_ms / ms}
    return found


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(("model name", "Hardware", "Processor")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=5
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine()


def _gpus() -> list[str]:
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def machine() -> dict:
    from crest_edge.cpu import amx_state, cpu_isa

    physical = None
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
        memory_gb = round(psutil.virtual_memory().total / 1e9, 1)
    except ImportError:
        memory_gb = None
    return {
        "cpu": _cpu_model(),
        "physical_cores": physical,
        "logical_cores": os.cpu_count(),
        "isa": cpu_isa(),
        "amx": amx_state(),
        "memory_gb": memory_gb,
        "gpus": _gpus(),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": sys.version.split()[0],
    }


def versions() -> dict:
    return engine_versions(*(p for p in PACKAGES if p != "crest-edge"))


def write_json(report: dict, path: str) -> None:
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if path == "-":
        sys.stdout.write(text)
    else:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)


def _f(value, digits: int = 1, suffix: str = "") -> str:
    return "–" if value is None else f"{value:,.{digits}f}{suffix}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def label(config: dict) -> str:
    return PEER_LABELS.get(config["name"], config["name"].replace(":", " "))


def markdown(report: dict) -> str:
    from crest_edge.cpu import amx_note

    m, meta = report["machine"], report["meta"]
    isa = ", ".join(filter(None, [m["isa"], amx_note(m.get("amx"))]))
    gpus = "; ".join(m["gpus"]) or "none"
    lines = [
        "# crest-edge benchmark",
        "",
        f"- **Date**: {meta['date']}; crest-edge {report['versions'].get('crest-edge', '?')}",
        f"- **Model**: {meta['source']} — {meta['model']['layers']} layers, hidden {meta['model']['hidden']}, "
        f"vocab {meta['model']['vocab']:,}; source sha256 {meta['sha256'][:16]}…",
        f"- **Machine**: {m['cpu']}; {m['physical_cores']} physical / {m['logical_cores']} logical cores; "
        f"ISA {isa}; {m['memory_gb']} GB RAM; GPU: {gpus}; {m['os']}; Python {m['python']}",
        f"- **Backend**: {meta['backend']}; threads: {meta['threads'] or 'engine default'}; 1-min load average "
        f"{' → '.join(str(v) for v in meta.get('load_average') or []) or 'n/a'} (start → end; other work on the "
        "cores makes numbers noisy)",
        "- **Engines**: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items() if k != "crest-edge"),
        f"- **Method**: each configuration in its own process; per workload {meta['warmup']} warm-up calls, then "
        f"up to {meta['repeat']} timed repeats (stopping after {meta['budget_s']:g} s, at least 3); Guard and engine "
        "calls interleaved. Latency = median and p95 ms per `Guard.classify_batch` call on texts that tokenize to "
        "exactly the stated length; engine = the raw `guard.engine.logits(ids)` call; overhead = "
        "(Guard − engine) / engine. Throughput = texts / mean call time. Peak RSS = the process's peak host "
        "memory up to that workload (workloads run smallest first). Load = `Guard.load` in a fresh process, "
        "engine import included. × fp32 = transformers fp32 (peer) median / this median, and this throughput / "
        "fp32 throughput, measured in this same run.",
        "",
        "## Configurations",
        "",
        "| configuration | engine | device | precision | size MB | load s | peak RSS MB | engine detail |",
        "|---|---|---|---|---:|---:|---:|---|",
    ]
    for c in report["configs"]:
        if c.get("error"):
            lines.append(f"| {label(c)} | failed: {_cell(c['error'])} | | | {_f(c.get('size_mb'))} | | | |")
        else:
            lines.append(
                f"| {label(c)} | {c['engine']} | {c['device']} | {c['precision']} | {_f(c['size_mb'])} | "
                f"{_f(c['load_s'], 2)} | {_f(c['peak_rss_mb'], 0)} | {_cell(c.get('detail', ''))} |"
            )
    best = fastest(report["configs"], meta["workloads"])
    if best:
        lines += [
            "",
            "## Fastest format on this machine",
            "",
            "; ".join(f"{w.replace('x', ' × ')} tokens: **{name}**" for w, name in best.items()),
        ]
    versus = against_peers(report["configs"], meta["workloads"])
    if versus:
        lines += [
            "",
            "## Against the best peer (raw engine call, median)",
            "",
            "| workload | crest-edge's fastest | best peer | × faster |",
            "|---|---|---|---:|",
            *(
                f"| {w.replace('x', ' × ')} | {v['fastest']} | {label({'name': v['best_peer']})} | {v['ratio']:.2f}× |"
                for w, v in versus.items()
            ),
            "",
            "Whether that format passes its gates is `crest-edge parity`'s to say (the manifest's `parity`).",
        ]
    for batch, length in meta["workloads"]:
        lines += [
            "",
            f"## Batch {batch} × {length} tokens",
            "",
            "| configuration | device / precision | median ms | p95 ms | texts/s | tokens/s | engine ms | "
            "overhead | peak RSS MB | × fp32 latency | × fp32 throughput | n |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for c in report["configs"]:
            w = next((w for w in c.get("workloads", []) if (w["batch"], w["length"]) == (batch, length)), None)
            if w is None:
                continue
            lines.append(
                f"| {label(c)} | {c['device']} {c['precision']} | {_f(w['median_ms'], 2)} | {_f(w['p95_ms'], 2)} | "
                f"{_f(w['texts_per_s'])} | {_f(w['tokens_per_s'], 0)} | {_f(w['engine_median_ms'], 2)} | "
                f"{_f(w['overhead_pct'], 1, '%')} | {_f(w['peak_rss_mb'], 0)} | {_f(w['speedup_vs_fp32'], 2, '×')} | "
                f"{_f(w['throughput_vs_fp32'], 2, '×')} | {w['repeats']} |"
            )
    return "\n".join(lines) + "\n"


def plot(report: dict, path: str, workload: tuple[int, int]) -> None:
    """Latency at `workload` against artifact size: one point per format and precision, peers marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for c in report["configs"]:
        w = next((w for w in c.get("workloads", []) if (w["batch"], w["length"]) == tuple(workload)), None)
        if w is None or c.get("size_mb") is None:
            continue
        peer = c["name"] in PEER_LABELS
        ax.scatter(
            c["size_mb"],
            w["median_ms"],
            marker="s" if peer else "o",
            s=60,
            color="tab:red" if peer else "tab:blue",
            label="peer" if peer else "crest-edge",
        )
        ax.annotate(
            f"{label(c)}\n{c['device']} {c['precision']}",
            (c["size_mb"], w["median_ms"]),
            fontsize=7,
            xytext=(5, 4),
            textcoords="offset points",
        )
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles))
    ax.legend(unique.values(), unique.keys(), loc="best")
    meta = report["meta"]
    ax.set_xlabel("artifact size (MB)")
    ax.set_ylabel(f"median latency, batch {workload[0]} × {workload[1]} tokens (ms)")
    ax.set_title(f"{meta['source']} on {meta['backend']} ({report['machine']['cpu'][:40]})", fontsize=9)
    ax.margins(x=0.2, y=0.15)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
