"""Static Virtual Account rules per bank channel, as data.

Pivot prefixes every VA number with its own bank/merchant digits; the merchant only picks the
*suffix*, which must have the bank's length and lie in the merchant's static range. The default
ranges come from Pivot's "Virtual Account Limitation" page (``pivot-api.md`` §2.3). A merchant
can have a wider range configured in Pivot's dashboard, so every rule can be overridden.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

__all__ = ["DEFAULT_VA_RULES", "VARule", "parse_va_rule_overrides"]


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
) -> dict[str, VARule]:
    """Apply overrides written as ``BCA=000000-000999,BRI=0000100-0000199``.

    The number of digits in each bound sets the suffix length, so a bank whose range Pivot
    configured differently (or that is missing from the defaults) can be described fully.
    """
    rules = dict(base)
    for item in filter(None, (part.strip() for part in spec.split(","))):
        channel, sep, bounds = item.partition("=")
        low, dash, high = bounds.partition("-")
        channel = channel.strip().upper()
        low, high = low.strip(), high.strip()
        if not (sep and dash and channel and _is_ascii_digits(low) and _is_ascii_digits(high)):
            raise ValueError(f"expected CHANNEL=FIRST-LAST, got {item!r}")
        if len(low) != len(high):
            raise ValueError(f"{channel}: both bounds need the same number of digits")
        known = rules.get(channel)
        name = known.name if known else channel
        rules[channel] = replace(
            known or VARule(channel, name, digits=len(low)),
            digits=len(low),
            first=int(low),
            last=int(high),
        )
    return rules
