"""Rupiah amounts as sellers type them, and as the bot shows them (``Rp 25.000``).

Indonesian writes ``.`` between thousands and ``,`` before decimals, but sellers also type
``25k`` or ``1.5jt``; the rules below accept every form the README lists and refuse anything
that is not a whole, positive number of rupiah rather than guess.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum

__all__ = ["AmountError", "AmountProblem", "format_rupiah", "is_unit_word", "parse_amount"]

_MULTIPLIERS = {"rb": 1_000, "ribu": 1_000, "k": 1_000, "jt": 1_000_000, "juta": 1_000_000}
# Words that start like a unit ("ribuan", "rb.", "jutaan") are part of an amount too, if not
# one we can read; "k" alone is too common a first letter of a name to count that way.
_UNIT_STEMS = tuple(unit for unit in _MULTIPLIERS if len(unit) > 1)
_WITH_SUFFIX = re.compile(r"(?P<number>\d+(?:[.,]\d+)?)(?P<suffix>rb|ribu|k|jt|juta)")
# Grouped thousands ("1.500.000", "25,000") with an optional decimal tail ("25.000,00").
_GROUPED = re.compile(
    r"(?P<whole>\d{1,3}(?P<sep>[.,])\d{3}(?:(?P=sep)\d{3})*)(?P<tail>[.,]\d{1,2})?"
)
_PLAIN = re.compile(r"(?P<whole>\d+)(?P<tail>[.,]\d{1,2})?")
MAX_AMOUNT = 999_999_999_999_999_999  # Pivot's amount.value holds at most 18 digits


class AmountProblem(StrEnum):
    """Why a typed amount was refused; each has its own sentence in the catalogues."""

    EMPTY = "empty"
    FORMAT = "format"
    ZERO = "zero"
    NEGATIVE = "negative"
    FRACTION = "fraction"
    TOO_LARGE = "too_large"


class AmountError(ValueError):
    """A typed amount that is not a whole, positive number of rupiah."""

    def __init__(self, problem: AmountProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def is_unit_word(word: str) -> bool:
    """Whether ``word`` after a number belongs to the amount: ``rb``, ``juta``, ``ribuan``."""
    word = word.lower()
    return word in _MULTIPLIERS or word.startswith(_UNIT_STEMS)


def parse_amount(text: str) -> int:
    """Whole rupiah from ``25000``, ``25.000``, ``Rp 25.000``, ``25rb``, ``25 rb``, ``1,5jt``..."""
    compact = re.sub(r"\s+", "", text).lower()
    compact = re.sub(r"^rp\.?", "", compact)
    if not compact:
        raise AmountError(AmountProblem.EMPTY)
    if compact.startswith("-"):
        raise AmountError(AmountProblem.NEGATIVE)
    compact = compact.removeprefix("+")
    value = _parse_unsigned(compact)
    if value == 0:
        raise AmountError(AmountProblem.ZERO)
    if value != value.to_integral_value():
        raise AmountError(AmountProblem.FRACTION)
    if value > MAX_AMOUNT:
        raise AmountError(AmountProblem.TOO_LARGE)
    return int(value)


def _parse_unsigned(compact: str) -> Decimal:
    try:
        if match := _WITH_SUFFIX.fullmatch(compact):
            number = Decimal(match["number"].replace(",", "."))
            return number * _MULTIPLIERS[match["suffix"]]
        match = _GROUPED.fullmatch(compact) or _PLAIN.fullmatch(compact)
        # "25.000.00" is no amount: the decimal mark cannot be the thousands separator.
        if match and not (match["tail"] and match.groupdict().get("sep") == match["tail"][0]):
            whole = re.sub(r"[.,]", "", match["whole"])
            tail = (match["tail"] or "")[1:]
            return Decimal(f"{whole}.{tail}" if tail else whole)
    except InvalidOperation:
        pass
    raise AmountError(AmountProblem.FORMAT)


def format_rupiah(amount: int) -> str:
    """``25000`` → ``Rp 25.000``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")
