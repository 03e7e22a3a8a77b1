"""Classifying a whole table file: the local, resumable batch job (`crest-edge classify --output`).

from crest_edge import Guard
from crest_edge.batch import classify_file

with Guard.load("crest-base-ct2-int8") as guard:
    summary = classify_file(guard, "forum.jsonl", "forum.verdicts.parquet", text_field="body")
"""

from .job import DEFAULT_CHUNK_ROWS, BatchSummary, classify_file
from .results import ADDED_FIELDS, RESULT_TYPES, ROW_FIELD, classify_values

__all__ = [
    "classify_file",
    "BatchSummary",
    "DEFAULT_CHUNK_ROWS",
    "classify_values",
    "ADDED_FIELDS",
    "RESULT_TYPES",
    "ROW_FIELD",
]
