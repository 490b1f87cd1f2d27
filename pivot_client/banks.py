"""Static Virtual Account rules per bank channel, as data.

Pivot prefixes every VA number with its own bank/merchant digits; the merchant only picks the
*suffix*, which must have the bank's length and lie in the merchant's static range. The default
ranges come from Pivot's "Virtual Account Limitation" page (``docs/pivot-api.md``
§va-ranges). A merchant can have a wider range configured in Pivot's dashboard, so every rule
can be overridden, and Pivot keeps separate ranges for open static VAs (any amount) and closed
ones (a fixed amount): ``VARanges`` holds both, one and the same range unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["DEFAULT_VA_RULES", "VAKind", "VARanges", "VARule", "parse_va_rule_overrides"]

VAKind = Literal["open", "closed"]
_KINDS: tuple[VAKind, ...] = ("open", "closed")


def _is_ascii_digits(text: str) -> bool:
    """Only 0-9: ``str.isdigit()`` alone also accepts other scripts' digits and superscripts."""
    return text.isascii() and text.isdigit()


@dataclass(frozen=True, slots=True)
class VARule:
    """How a bank's static VA suffixes look: ``digits`` long, from ``first`` to ``last``."""

    channel: str
    name: str
    digits: int
    first: int = 0
    last: int = 99

    def __post_init__(self) -> None:
        if self.digits < 1:
            raise ValueError(f"{self.channel}: a suffix needs at least one digit")
        if not 0 <= self.first <= self.last < 10**self.digits:
            raise ValueError(
                f"{self.channel}: range {self.first}-{self.last} does not fit {self.digits} digits"
            )

    def format(self, number: int) -> str:
        """The suffix for ``number``, zero-padded to the bank's length."""
        if not self.contains(number):
            raise ValueError(f"{number} is outside {self.channel}'s range")
        return str(number).zfill(self.digits)

    def contains(self, number: int) -> bool:
        """Whether ``number`` lies in this bank's static range."""
        return self.first <= number <= self.last

    def is_valid_suffix(self, suffix: str) -> bool:
        """Whether ``suffix`` has the right length, only digits, and lies in the range."""
        return (
            len(suffix) == self.digits and _is_ascii_digits(suffix) and self.contains(int(suffix))
        )

    def suffixes(self) -> Iterator[str]:
        """Every suffix of the range, in order."""
        for number in range(self.first, self.last + 1):
            yield self.format(number)

    @property
    def capacity(self) -> int:
        """How many static VA numbers the range holds."""
        return self.last - self.first + 1

    @property
    def bounds(self) -> tuple[int, int]:
        """``(first, last)``."""
        return self.first, self.last


@dataclass(frozen=True, slots=True)
class VARanges:
    """One bank's static VA ranges: for open VAs (any amount) and for closed ones (one amount).

    Pivot's dashboard configures the two apart. Its default range, like a single range given
    for the bank, serves both. Split ranges must not overlap: a number is open or closed.
    """

    open: VARule
    closed: VARule

    def __post_init__(self) -> None:
        channel = self.open.channel
        if self.closed.channel != channel:
            raise ValueError(f"{channel}: open and closed ranges of different banks")
        if self.closed.digits != self.open.digits:
            raise ValueError(f"{channel}: open and closed suffixes need the same number of digits")
        if self.split and (
            self.open.first <= self.closed.last and self.closed.first <= self.open.last
        ):
            raise ValueError(f"{channel}: the open and closed ranges overlap")

    @classmethod
    def shared(cls, rule: VARule) -> VARanges:
        """One range for open and closed VAs alike."""
        return cls(open=rule, closed=rule)

    @property
    def channel(self) -> str:
        """The bank channel, e.g. ``BCA``."""
        return self.open.channel

    @property
    def name(self) -> str:
        """The bank's display name."""
        return self.open.name

    @property
    def digits(self) -> int:
        """The suffix length."""
        return self.open.digits

    @property
    def split(self) -> bool:
        """Whether open and closed VAs have ranges of their own."""
        return self.open.bounds != self.closed.bounds

    def for_amount(self, amount: int | None) -> VARule:
        """The range of an open VA (``amount`` None) or of a closed one."""
        return self.open if amount is None else self.closed

    def label(self, amount: int | None) -> str:
        """How ``PIVOT_VA_RANGES`` names that range: ``BCA``, or ``BCA:closed`` when split."""
        if not self.split:
            return self.channel
        return f"{self.channel}:{'open' if amount is None else 'closed'}"


DEFAULT_VA_RULES: Mapping[str, VARule] = {
    rule.channel: rule
    for rule in (
        VARule("BCA", "Bank Central Asia (BCA)", digits=6),
        VARule("BRI", "Bank Rakyat Indonesia (BRI)", digits=7),
        VARule("MANDIRI", "Bank Mandiri", digits=7),
        VARule("BNI", "Bank Negara Indonesia (BNI)", digits=4),
        VARule("BSI", "Bank Syariah Indonesia (BSI)", digits=8),
        VARule("CIMB", "CIMB Niaga", digits=8),
        VARule("PERMATA", "Bank Permata", digits=8),
        VARule("BNC", "Bank Neo Commerce (BNC)", digits=4),
    )
}


def parse_va_rule_overrides(
    spec: str, base: Mapping[str, VARule] = DEFAULT_VA_RULES
) -> dict[str, VARanges]:
    """Every bank's ranges: ``base`` with overrides written as ``BCA=000000-000999,...``.

    ``BANK=FIRST-LAST`` gives one range for open and closed VAs alike (what Pivot's default
    range is); ``BANK:open=FIRST-LAST`` and ``BANK:closed=FIRST-LAST`` give each its own, as
    Pivot's dashboard can. The number of digits in each bound sets the suffix length, so a bank
    whose range Pivot configured differently (or that is missing from the defaults) can be
    described fully; such a bank needs both its kinds, or one range for both.
    """
    sides: dict[str, dict[VAKind, VARule]] = {
        channel: {"open": rule, "closed": rule} for channel, rule in base.items()
    }
    for item in filter(None, (part.strip() for part in spec.split(","))):
        target, sep, bounds = item.partition("=")
        channel, colon, kind = (part.strip() for part in target.partition(":"))
        channel, kind = channel.upper(), kind.lower()
        low, dash, high = (part.strip() for part in bounds.partition("-"))
        if not (sep and dash and channel and _is_ascii_digits(low) and _is_ascii_digits(high)):
            raise ValueError(
                f"expected CHANNEL=FIRST-LAST or CHANNEL:open|closed=..., got {item!r}"
            )
        if colon and kind not in _KINDS:
            raise ValueError(f"{channel}: a range is for open or closed VAs, not {kind!r}")
        if len(low) != len(high):
            raise ValueError(f"{channel}: both bounds need the same number of digits")
        known = sides.setdefault(channel, {})
        name = known["open"].name if "open" in known else channel
        rule = VARule(channel, name, digits=len(low), first=int(low), last=int(high))
        for side in _KINDS if not colon else [k for k in _KINDS if k == kind]:
            known[side] = rule
    ranges = {}
    for channel, known in sides.items():
        if len(known) < 2:
            raise ValueError(f"{channel}: give {channel}= or both {channel}:open= and :closed=")
        ranges[channel] = VARanges(open=known["open"], closed=known["closed"])
    return ranges
