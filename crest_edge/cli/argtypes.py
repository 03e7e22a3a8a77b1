"""Argument types shared by every subcommand: a bad value is one clear usage line."""

from __future__ import annotations

import argparse
import math

from ..selection import MAX_BATCH, max_threads


def _number(cast, accept, requirement: str, percent: bool = False):
    def parse(value: str):
        try:
            number = cast(value[:-1]) / 100 if percent and value.endswith("%") else cast(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
        if not math.isfinite(number) or not accept(number):
            raise argparse.ArgumentTypeError(f"must be {requirement}: {value}")
        return number

    return parse


probability = _number(float, lambda x: 0.0 <= x <= 1.0, "between 0 and 1")
fraction = _number(float, lambda x: 0.0 <= x <= 1.0, "between 0 and 1 (or 0% and 100%)", percent=True)
non_negative = _number(float, lambda x: x >= 0, "zero or more")


def whole(low: int, high: int):
    return _number(int, lambda x: low <= x <= high, f"a whole number from {low} to {high}")


positive_int = whole(1, 1_000_000)
threads = whole(1, max_threads())  # 4 per CPU: more only oversubscribe the cores
batch_size = whole(1, MAX_BATCH)
