"""Parity: how faithfully a converted artifact reproduces the fp32 reference, with gates per precision."""

from .gates import GATES, effective_class, precision_class
from .record import parity_summary, write_parity
from .run import Reference, check_candidate, compare, load_corpus, make_report, run_parity, run_reference

__all__ = [
    "run_parity",
    "run_reference",
    "check_candidate",
    "make_report",
    "Reference",
    "compare",
    "load_corpus",
    "GATES",
    "precision_class",
    "effective_class",
    "parity_summary",
    "write_parity",
]
