"""`crest-edge verify`: check an artifact against its integrity record, on demand."""

from __future__ import annotations

import time


def add_parser(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="check an artifact's files and manifest against the sha256 record it was made with",
        description="Exit status 0: every file and the manifest match their record; 1: one does not (named).",
    )
    p.add_argument("artifacts", nargs="+", metavar="ARTIFACT", help="CT2/ONNX artifact directory or .gguf file")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    from ..benchmark.artifacts import size_mb
    from ..errors import CrestEdgeError
    from ..formats.artifact import open_artifact

    failed = 0
    for path in args.artifacts:
        started = time.perf_counter()
        try:
            artifact = open_artifact(path, verify="full")
        except CrestEdgeError as exc:
            print(f"FAILED {exc}")
            failed += 1
            continue
        if artifact.manifest is None:
            print(f"FAILED {path}: a Hugging Face checkpoint carries no integrity record (only artifacts do)")
            failed += 1
            continue
        seconds = time.perf_counter() - started
        count = len(artifact.manifest.integrity["files"])
        print(f"ok {path}: {count} file(s), {size_mb(artifact.path):.1f} MB, sha256 verified in {seconds:.2f} s")
    return 1 if failed else 0
