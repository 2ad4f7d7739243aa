"""Argument types that refuse impossible numbers at parse time (one-line argparse error, exit 2)."""

from __future__ import annotations

import argparse
import math

__all__ = ["positive_float", "nonnegative_float", "positive_int", "nonnegative_int", "int_at_least"]


def _number(text: str, kind):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a{'n integer' if kind is int else ' number'}, "
                                         f"got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def nonnegative_float(text: str) -> float:
    """A finite number >= 0."""
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def int_at_least(lowest: int):
    """An integer >= ``lowest``."""
    def parse(text: str) -> int:
        value = _number(text, int)
        if value < lowest:
            raise argparse.ArgumentTypeError(f"must be an integer >= {lowest}, got {text}")
        return value

    parse.__name__ = f"int>={lowest}"
    return parse


positive_int = int_at_least(1)
nonnegative_int = int_at_least(0)
