"""A code being described, step by step or in one message (``/new va bca 25000 Budi``).

Parsing never talks to Pivot or Telegram: it turns what the seller typed into a ``Draft`` and
says which piece is still missing, so the conversation can ask for exactly that.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.amounts import AmountError, is_unit_word, parse_amount
from storage import CodeKind

__all__ = [
    "MAX_NAME_LENGTH",
    "Draft",
    "DraftProblem",
    "Step",
    "clean_customer_name",
    "parse_new_command",
]

MAX_NAME_LENGTH = 60  # fits Pivot's virtualAccountName (100) and a card line on a phone
OPEN_WORDS = frozenset({"bebas", "open", "terbuka"})
_AMOUNT_TOKEN = re.compile(r"(?i)^(?:rp\.?)?[-+]?\d")
_KIND_WORDS = {kind.value.lower(): kind for kind in CodeKind}  # /new qris, /new va


class Step(StrEnum):
    """What the conversation still has to ask."""

    KIND = "kind"
    BANK = "bank"
    NAME = "name"
    AMOUNT = "amount"
    READY = "ready"


class DraftProblem(StrEnum):
    """Something typed in ``/new ...`` that has to be asked again."""

    UNKNOWN_KIND = "unknown_kind"
    UNKNOWN_BANK = "unknown_bank"


@dataclass(frozen=True, slots=True)
class Draft:
    """The answers so far; ``amount=None`` with ``open_amount=False`` means not asked yet."""

    kind: CodeKind | None = None
    bank: str | None = None
    customer: str | None = None
    amount: int | None = None
    open_amount: bool = False

    @property
    def next_step(self) -> Step:
        """The first piece still missing."""
        if self.kind is None:
            return Step.KIND
        if self.kind.takes_bank and self.bank is None:
            return Step.BANK
        if not self.customer:
            return Step.NAME
        if self.amount is None and not self.open_amount:
            return Step.AMOUNT
        return Step.READY

    def with_amount(self, amount: int | None) -> Draft:
        """The draft with a fixed/expected amount, or an open amount for ``None``."""
        return replace(self, amount=amount, open_amount=amount is None)


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """``/new`` arguments read into a draft, with what could not be used and why."""

    draft: Draft
    problem: DraftProblem | None = None
    rejected: str | None = None
    amount_error: AmountError | None = None


def clean_customer_name(text: str) -> str:
    """Trimmed, one line, no control or format characters, at most ``MAX_NAME_LENGTH``."""
    kept = "".join(
        " " if char.isspace() else char
        for char in unicodedata.normalize("NFC", text)
        if char.isspace() or unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    )
    return " ".join(kept.split())[:MAX_NAME_LENGTH].strip()


def parse_new_command(args: list[str], banks: tuple[str, ...]) -> ParsedCommand:
    """Read ``qris [amount] <name>`` or ``va <bank> <amount|bebas> <name>`` as far as it goes."""
    if not args:
        return ParsedCommand(Draft())
    kind, rest = _KIND_WORDS.get(args[0].lower()), args[1:]
    if kind is None:
        return ParsedCommand(Draft(), DraftProblem.UNKNOWN_KIND, args[0])
    draft = Draft(kind=kind)
    if kind.takes_bank:
        if not rest:
            return ParsedCommand(draft)
        bank = rest[0].upper()
        if bank not in banks:
            return ParsedCommand(draft, DraftProblem.UNKNOWN_BANK, rest[0])
        draft, rest = replace(draft, bank=bank), rest[1:]
    amount_words, rest = _leading_amount(rest)
    draft = replace(draft, customer=clean_customer_name(" ".join(rest)) or None)
    if amount_words is None:
        # "/new qris Budi" is complete: a static QRIS is open-amount unless told otherwise.
        if kind is CodeKind.QRIS and draft.customer:
            draft = draft.with_amount(None)
        return ParsedCommand(draft)
    if amount_words.lower() in OPEN_WORDS:
        return ParsedCommand(draft.with_amount(None))
    try:
        return ParsedCommand(replace(draft, amount=parse_amount(amount_words)))
    except AmountError as exc:
        return ParsedCommand(draft, amount_error=exc)


def _leading_amount(words: list[str]) -> tuple[str | None, list[str]]:
    """Split off an amount (``25000``, ``Rp 25.000``, ``25 rb``, ``bebas``) from ``words``."""
    if not words:
        return None, words
    first = words[0]
    if first.lower() in OPEN_WORDS:
        return first, words[1:]
    if first.lower() in {"rp", "rp."} and len(words) > 1:
        taken = 2
    elif _AMOUNT_TOKEN.match(first):
        taken = 1
    else:
        return None, words
    # A unit typed apart ("25 rb", "1,5 juta") belongs to the number, not to the name; one we
    # cannot read ("25 ribuan") makes the amount unreadable rather than Rp 25.
    if taken < len(words) and is_unit_word(words[taken]):
        taken += 1
    return "".join(words[:taken]), words[taken:]
