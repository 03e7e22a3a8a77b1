"""Ray Data: classify a dataset across a cluster with `Dataset.map_batches`, one model per actor.

    import ray
    from crest_edge.ray import Classifier

    ds = ray.data.read_parquet("s3://bucket/forum/")
    verdicts = ds.map_batches(
        Classifier,
        fn_constructor_kwargs={"model": "/models/crest-base-ct2-int8", "text_field": "body"},
        batch_format="pyarrow",
        batch_size=256,
        concurrency=8,  # actors, each loading the model once
        num_cpus=2,  # per actor; give `threads=2` too so the engine uses them
    )
    verdicts.write_parquet("s3://bucket/forum-verdicts/")

Every row keeps its fields and gains the result columns of the local batch job
(crest_edge.batch.results), computed by the same function. `classify_dataset` also cuts the rows
into the local job's chunks (blocks of exactly `chunk_rows` rows, in order, one batch each), so a
row shares its batch with the same neighbours and its result is the local job's, bit for bit, on
every engine (scores depend on batch neighbours: see crest_edge.batch.job). A bad row (no string
text) gets its defined result, never a failed task. `run_job` is `crest-edge classify --ray`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from ..batch.job import DEFAULT_CHUNK_ROWS
from ..batch.results import ADDED_FIELDS, RESULT_TYPES, classify_values
from ..errors import CrestEdgeError
from ..extras import require

# An actor that dies (killed, out of memory, its node lost) is restarted and its batch retried, a
# bounded number of times: Ray Data's default (-1, forever) would retry a batch that kills its actor
# every time without end.
MAX_RESTARTS = 4
MAX_TASK_RETRIES = 4
READERS = {"jsonl": "read_json", "csv": "read_csv", "parquet": "read_parquet"}
WRITERS = {"jsonl": "write_json", "parquet": "write_parquet"}


class Classifier:
    """A callable class for `map_batches(..., batch_format="pyarrow")`: Guard.load once per actor,
    then every batch (a pyarrow.Table) comes back with the result columns appended."""

    def __init__(
        self,
        model=None,
        *,
        text_field: str = "text",
        engine: str = "auto",
        device: str = "auto",
        threads: int | None = None,
        threshold: float = 0.5,
        long_text: str = "windows",
        on_error: str = "raise",
        batch_size: int = 32,
    ):
        from ..guard import Guard

        self.text_field = text_field
        self.guard = Guard.load(
            model,
            engine=engine,
            device=device,
            threads=threads,
            threshold=threshold,
            long_text=long_text,
            on_error=on_error,
            batch_size=batch_size,
        )

    def __call__(self, batch):
        pa = require("pyarrow", "Ray Data batches")
        if self.text_field not in batch.column_names:
            raise CrestEdgeError(
                f"this batch has no column {self.text_field!r} (it has {', '.join(batch.column_names)})"
            )
        results = classify_values(self.guard, self.text_field, batch.column(self.text_field).to_pylist())
        for name, kind in RESULT_TYPES.items():
            batch = batch.append_column(
                pa.field(name, pa.type_for_alias(kind)), pa.array([r[name] for r in results], pa.type_for_alias(kind))
            )
        return batch


def classify_dataset(
    dataset,
    model=None,
    *,
    workers: int = 1,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    num_cpus: float = 1,
    num_gpus: float = 0,
    classifier: type = Classifier,
    **classifier_options,
):
    """`dataset` with the result columns, classified `chunk_rows` rows per call (the local job's
    chunks: the first `chunk_rows` rows, the next, ...) by `workers` actors of `Classifier` (each
    reserving `num_cpus` and `num_gpus`; `classifier_options` go to `classifier`, Classifier or a
    subclass of it). The input's row order is kept (this sets the current DataContext's
    preserve_order). Lazy, like every Ray Data transform: it runs when the result is consumed."""
    ray = require("ray", "Ray Data")
    names = dataset.schema().names
    text_field = classifier_options.get("text_field", "text")
    if text_field not in names:
        raise CrestEdgeError(f"the dataset has no column {text_field!r} (it has {', '.join(names)})")
    clash = [name for name in ADDED_FIELDS if name in names]
    if clash:
        raise CrestEdgeError(f"the dataset already has the column {clash[0]!r} that classifying adds")
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    if classifier_options.get("threads") is None and num_cpus >= 1:
        classifier_options["threads"] = int(num_cpus)  # the engine's threads: the CPUs its actor holds
    if model is not None:
        model = str(Path(model).expanduser().resolve())  # every actor opens the same path
    chunks = dataset.repartition(target_num_rows_per_block=chunk_rows, strict=True)
    return chunks.map_batches(
        classifier,
        fn_constructor_kwargs={"model": model, **classifier_options},
        batch_format="pyarrow",
        batch_size=chunk_rows,
        concurrency=workers,
        num_cpus=num_cpus,
        num_gpus=num_gpus,
        max_restarts=MAX_RESTARTS,
        max_task_retries=MAX_TASK_RETRIES,
    )


def run_job(
    source, output, model=None, *, address: str | None = None, workers: int = 1, num_cpus: float = 1, **options
) -> None:
    """`crest-edge classify --ray`: read `source` (JSONL, CSV or Parquet: a file or a folder of them)
    with Ray Data, classify it, and write `output` as a folder of Parquet or JSON-lines files.
    Connects to the cluster at `address` (e.g. "auto", or "ray://head:10001"), else starts a local
    one; a Ray already initialized in this process is used as it is."""
    from ..batch.tables import table_format

    source, output = Path(source), Path(output)
    in_format, out_format = table_format(source, "--input"), table_format(output, "--output")
    if out_format not in WRITERS:
        raise CrestEdgeError(
            f"--ray writes Parquet or JSONL, not {out_format}: give --output a .parquet or .jsonl name"
        )
    if not source.exists():
        raise CrestEdgeError(f"{source}: no such file")
    if output.exists():
        raise CrestEdgeError(f"{output} exists; Ray writes a new folder of files: remove it or choose another --output")
    ray = require("ray", "--ray")
    reserved = workers * num_cpus
    if not ray.is_initialized():
        # A local cluster gets a CPU beyond the actors' for the read and write tasks (1 CPU each):
        # with every CPU held by an actor, the read never starts and the job waits forever.
        local = {} if address else {"num_cpus": max(os.cpu_count() or 1, math.ceil(reserved) + 1)}
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False, **local)
    cpus = ray.cluster_resources().get("CPU", 0)
    if reserved >= cpus:
        raise CrestEdgeError(
            f"{workers} workers x {num_cpus:g} CPUs leave none of the cluster's {cpus:g} CPUs to read and write "
            "the data: use fewer --workers or --threads"
        )
    dataset = getattr(ray.data, READERS[in_format])(str(source))
    classified = classify_dataset(dataset, model, workers=workers, num_cpus=num_cpus, **options)
    getattr(classified, WRITERS[out_format])(str(output))
