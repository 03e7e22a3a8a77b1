"""`crest-edge classify --input IN --output OUT [--ray]`: the batch job's options and handler."""

from __future__ import annotations

import sys

from ..errors import CrestEdgeError
from .argtypes import positive_int, whole


def add_batch_options(parser) -> None:
    group = parser.add_argument_group("batch job (a table file in, a table file out)")
    group.add_argument(
        "--output",
        metavar="OUT",
        help="write every --input row with its verdict to OUT (.jsonl, .csv or .parquet); "
        "rerunning the same command resumes an interrupted job",
    )
    group.add_argument("--text-field", default="text", help="the column or JSON field holding the text (default: text)")
    group.add_argument(
        "--chunk-rows",
        type=whole(1, 1_000_000),
        default=None,
        help="rows per model call and per resume point, with or without --ray (default: 1024)",
    )
    group.add_argument("--ray", action="store_true", help="run the job on Ray Data (OUT becomes a folder of files)")
    group.add_argument("--address", help="with --ray: the cluster to join (e.g. auto); default: start a local one")
    group.add_argument("--workers", type=positive_int, default=1, help="with --ray: model actors (default: 1)")


def check_batch_options(args) -> None:
    ray_only = ["--address"] * (args.address is not None) + ["--workers"] * (args.workers != 1)
    if args.output is None:
        given = ["--ray"] * args.ray + ray_only + ["--chunk-rows"] * (args.chunk_rows is not None)
        if given:
            raise CrestEdgeError(f"{given[0]} needs --output")
        return
    if not args.output.strip():
        raise CrestEdgeError("--output is empty (an unset variable?)")
    if args.texts or not args.input or args.input == "-":
        raise CrestEdgeError("--output takes its rows from --input FILE (a file, so a job can resume)")
    if args.json:
        raise CrestEdgeError("--json prints to stdout; with --output every row goes to the file")
    if getattr(args, "stream", False):
        raise CrestEdgeError("--stream prints verdicts as texts arrive; --output writes a file: choose one")
    if not args.ray and ray_only:
        raise CrestEdgeError(f"{ray_only[0]} needs --ray")


def handle_batch(args, model: str, guard_options: dict) -> int:
    """Exit status 0 when every row was scored, 1 when some row got a verdict with an error.
    `guard_options`: Guard.load's keyword arguments (engine, device, threads, verdict policy)."""
    if args.ray:
        return _ray_job(args, model, guard_options)
    from ..batch import DEFAULT_CHUNK_ROWS, classify_file
    from ..guard import Guard

    with Guard.load(model, **guard_options) as guard:
        summary = classify_file(
            guard,
            args.input,
            args.output,
            text_field=args.text_field,
            chunk_rows=args.chunk_rows or DEFAULT_CHUNK_ROWS,
            progress=True,
        )
    if summary.already_complete:
        print(f"crest-edge: {summary.output} is already complete ({summary.rows:,} rows)", file=sys.stderr)
        return 0
    rate = summary.classified / summary.seconds if summary.seconds else 0.0
    resumed = f", resumed after row {summary.resumed_at:,}" if summary.resumed_at else ""
    print(
        f"crest-edge: {summary.rows:,} rows in {summary.output} ({summary.classified:,} classified now{resumed}): "
        f"{summary.unsafe:,} unsafe, {summary.errors:,} with an error; {summary.seconds:.1f} s, {rate:.1f} texts/s",
        file=sys.stderr,
    )
    return 1 if summary.errors else 0


def _ray_job(args, model: str, guard_options: dict) -> int:
    from ..batch import DEFAULT_CHUNK_ROWS
    from ..ray import run_job

    threads = args.threads or 1
    run_job(
        args.input,
        args.output,
        model,
        address=args.address,
        workers=args.workers,
        chunk_rows=args.chunk_rows or DEFAULT_CHUNK_ROWS,
        num_cpus=threads,
        num_gpus=1 if args.device == "cuda" else 0,
        text_field=args.text_field,
        **{**guard_options, "threads": threads},  # one CPU per actor unless --threads says more
    )
    print(f"crest-edge: the classified rows are in {args.output}/", file=sys.stderr)
    return 0
