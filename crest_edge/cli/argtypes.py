"""Argument types shared by every subcommand: a bad value is one clear usage line."""

from __future__ import annotations

import argparse


def _number(cast, accept, requirement: str, percent: bool = False):
    def parse(value: str):
        try:
            number = cast(value[:-1]) / 100 if percent and value.endswith("%") else cast(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
        if not accept(number):
            raise argparse.ArgumentTypeError(f"must be {requirement}: {value}")
        return number

    return parse


probability = _number(float, lambda x: 0.0 <= x <= 1.0, "between 0 and 1")
fraction = _number(float, lambda x: 0.0 <= x <= 1.0, "between 0 and 1 (or 0% and 100%)", percent=True)
positive_int = _number(int, lambda x: x >= 1, "at least 1")
non_negative = _number(float, lambda x: x >= 0, "zero or more")
