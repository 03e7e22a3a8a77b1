"""Store a candidate's measured parity in its own manifest (crest-edge.json, or inside the .gguf)."""

from __future__ import annotations

from pathlib import Path

from crest_edge.errors import CrestEdgeError
from crest_edge.formats.manifest import Manifest

_KEPT = (
    "n",
    "agree",
    "flips",
    "agreement",
    "max_dp",
    "mean_dp",
    "max_dlogit",
    "rmse_logit",
    "near_n",
    "near_agreement",
)


def parity_summary(report: dict, candidate: dict) -> dict:
    """What a manifest keeps of one candidate's parity: enough to trust it, small enough to ship."""
    corpus, ref = report["corpus"], report["reference"]
    return {
        "date": report["date"],
        "corpus": {"name": corpus["name"], "sha256": corpus["sha256"], "n": corpus["n"]},
        "reference": {"engine": ref["engine"], "device": ref["device"], "precision": ref["precision"]},
        "engine": {"engine": candidate["engine"], "device": candidate["device"], "precision": candidate["precision"]},
        "threshold": report["threshold"],
        "near_band": report["near_band"],
        **{key: candidate["overall"][key] for key in _KEPT},
        "class": candidate["class"],
        "gates": {
            g["metric"]: {"value": g["value"], "limit": g["limit"], "passed": g["passed"]} for g in candidate["gates"]
        },
        "gates_passed": candidate["passed"],
    }


def write_parity(path, summary: dict) -> Path:
    """Record `summary` as the artifact's manifest `parity`; return the file changed."""
    return _update(path, parity=summary)


def write_selection(path, selection: dict, summary: dict) -> Path:
    """Record what `--quant auto-...` chose (and its parity on the calibration set) in the manifest."""
    return _update(path, selection=selection, parity=summary)


def _update(path, **measured) -> Path:
    """Set manifest fields outside the sealed digest (crest_edge.formats.integrity.UNSEALED_FIELDS)."""
    artifact = _recordable(path)
    manifest: Manifest = artifact.manifest
    for key, value in measured.items():
        setattr(manifest, key, value)
    if artifact.format == "gguf":
        from crest_edge.formats.gguf_file import update_gguf_manifest

        update_gguf_manifest(artifact.path, manifest)
        return artifact.path
    # the manifest is not in its own files list, so the recorded sizes stay right
    return manifest.write(artifact.path)


def _recordable(path):
    from crest_edge.formats.artifact import open_artifact

    artifact = open_artifact(path)
    if artifact.manifest is None:
        raise CrestEdgeError(f"{path}: a Hugging Face checkpoint has no crest-edge manifest to record parity in")
    return artifact


def check_recordable(paths) -> None:
    """Refuse before any run if a candidate cannot hold a manifest."""
    for path in paths:
        _recordable(path)


def record_report(report: dict) -> list[Path]:
    """Write parity into every candidate that ran (failed gates are recorded too, as gates_passed false)."""
    return [write_parity(c["path"], parity_summary(report, c)) for c in report["candidates"] if "error" not in c]
