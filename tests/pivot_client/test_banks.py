"""Static VA suffix rules per bank (docs/pivot-api.md §va-ranges) and their overrides."""

from __future__ import annotations

import pytest

from pivot_client import DEFAULT_VA_RULES, VARanges, VARule, parse_va_rule_overrides

# Pivot's "Virtual Account Limitation" table: suffix digits per channel; every default
# static range is the first 100 numbers.
LIMITATION_TABLE = {
    "BCA": 6,
    "BRI": 7,
    "MANDIRI": 7,
    "BNI": 4,
    "BSI": 8,
    "CIMB": 8,
    "PERMATA": 8,
    "BNC": 4,
}


def test_defaults_follow_the_limitation_table() -> None:
    assert {channel: rule.digits for channel, rule in DEFAULT_VA_RULES.items()} == (
        LIMITATION_TABLE
    )
    for channel, rule in DEFAULT_VA_RULES.items():
        assert rule.channel == channel
        assert (rule.first, rule.last, rule.capacity) == (0, 99, 100)
        assert rule.name


@pytest.mark.parametrize("channel", sorted(LIMITATION_TABLE))
def test_first_and_last_suffix_of_each_default_range(channel: str) -> None:
    rule = DEFAULT_VA_RULES[channel]
    digits = LIMITATION_TABLE[channel]

    assert rule.format(0) == "0" * digits
    assert rule.format(99) == "99".zfill(digits)
    assert rule.is_valid_suffix("0" * digits)
    assert rule.is_valid_suffix("99".zfill(digits))
    assert not rule.is_valid_suffix("100".zfill(digits))  # one past the range
    assert not rule.is_valid_suffix("1".zfill(digits - 1))  # one digit short
    assert not rule.is_valid_suffix("1".zfill(digits + 1))  # one digit too many
    suffixes = list(rule.suffixes())
    assert len(suffixes) == 100
    assert suffixes[:2] == ["0" * digits, "1".zfill(digits)]
    assert len(set(suffixes)) == 100


@pytest.mark.parametrize(
    "suffix",
    [
        "",
        "00001a",
        "-00001",
        " 00001",
        "+00001",
        "0000.1",
        "٠٠٠٠٠١",  # Arabic-Indic digits: str.isdigit() says yes, Pivot would not
        "00000²",  # a superscript two: isdigit() yes, int() no
    ],
)
def test_suffixes_that_are_not_plain_ascii_digits_are_invalid(suffix: str) -> None:
    assert DEFAULT_VA_RULES["BCA"].is_valid_suffix(suffix) is False


def test_format_refuses_numbers_outside_the_range() -> None:
    rule = DEFAULT_VA_RULES["BNI"]

    assert rule.format(42) == "0042"
    with pytest.raises(ValueError, match="outside BNI's range"):
        rule.format(100)
    with pytest.raises(ValueError, match="outside"):
        rule.format(-1)


@pytest.mark.parametrize(
    ("digits", "first", "last", "why"),
    [
        (0, 0, 0, "at least one digit"),
        (4, 10, 9, "does not fit"),
        (4, -1, 9, "does not fit"),
        (4, 0, 10_000, "does not fit"),
    ],
)
def test_a_rule_must_be_consistent(digits: int, first: int, last: int, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        VARule("X", "X", digits=digits, first=first, last=last)


def test_overrides_widen_a_range_and_keep_the_bank_name() -> None:
    rules = parse_va_rule_overrides("BCA=000000-000999")

    bca = rules["BCA"]
    assert bca.open is bca.closed and not bca.split  # one range for open and closed VAs
    assert (bca.digits, bca.open.first, bca.open.last, bca.open.capacity) == (6, 0, 999, 1000)
    assert bca.name == DEFAULT_VA_RULES["BCA"].name
    assert bca.for_amount(None).is_valid_suffix("000500")
    assert bca.for_amount(25_000).is_valid_suffix("000500")
    assert rules["BRI"] == VARanges.shared(DEFAULT_VA_RULES["BRI"])
    assert DEFAULT_VA_RULES["BCA"].last == 99  # the defaults are untouched


def test_open_and_closed_vas_can_have_ranges_of_their_own() -> None:
    rules = parse_va_rule_overrides("BCA:open=000000-000049, bca:CLOSED=000050-000099")

    bca = rules["BCA"]
    assert bca.split
    assert bca.for_amount(None).bounds == (0, 49)
    assert bca.for_amount(25_000).bounds == (50, 99)
    assert not bca.for_amount(None).is_valid_suffix("000050")
    assert not bca.for_amount(25_000).is_valid_suffix("000049")
    assert (bca.label(None), bca.label(25_000)) == ("BCA:open", "BCA:closed")
    assert rules["BRI"].label(25_000) == "BRI"  # one range: named by the bank alone


def test_a_later_item_overrides_one_kind_of_an_earlier_range() -> None:
    rules = parse_va_rule_overrides("BNI=0000-0199,BNI:closed=0200-0299")

    assert rules["BNI"].open.bounds == (0, 199)
    assert rules["BNI"].closed.bounds == (200, 299)


def test_the_same_range_for_both_kinds_is_one_range() -> None:
    rules = parse_va_rule_overrides("BNI:open=0000-0099,BNI:closed=0000-0099")

    assert not rules["BNI"].split and rules["BNI"].label(1) == "BNI"


def test_the_bound_width_sets_the_suffix_length() -> None:
    rules = parse_va_rule_overrides("BCA=0000000-0000050")

    assert rules["BCA"].digits == 7
    assert rules["BCA"].open.is_valid_suffix("0000050")
    assert not rules["BCA"].open.is_valid_suffix("000050")


def test_an_unknown_channel_can_be_added() -> None:
    rules = parse_va_rule_overrides("DANAMON=0000-0499,XBANK:open=00-09,XBANK:closed=10-19")

    danamon = VARule("DANAMON", "DANAMON", digits=4, first=0, last=499)
    assert rules["DANAMON"] == VARanges.shared(danamon)
    assert rules["XBANK"].closed == VARule("XBANK", "XBANK", digits=2, first=10, last=19)


def test_an_empty_spec_changes_nothing() -> None:
    assert parse_va_rule_overrides("") == {
        channel: VARanges.shared(rule) for channel, rule in DEFAULT_VA_RULES.items()
    }


def test_overrides_apply_to_a_given_base() -> None:
    base = {"BNC": VARule("BNC", "Neo", digits=4)}

    assert parse_va_rule_overrides("BNC=0000-0001", base)["BNC"].name == "Neo"
    assert (
        parse_va_rule_overrides("BNC:open=0000-0049,BNC:closed=0050-0059", base)["BNC"].closed.name
        == "Neo"
    )
    assert set(parse_va_rule_overrides("BCA=000000-000001", base)) == {"BNC", "BCA"}


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("BCA", "expected CHANNEL=FIRST-LAST"),
        ("BCA=", "expected CHANNEL=FIRST-LAST"),
        ("BCA=000000", "expected CHANNEL=FIRST-LAST"),
        ("=000000-000099", "expected CHANNEL=FIRST-LAST"),
        (":open=000000-000099", "expected CHANNEL=FIRST-LAST"),
        ("BCA=00000a-000099", "expected CHANNEL=FIRST-LAST"),
        ("BCA=-1-99", "expected CHANNEL=FIRST-LAST"),
        ("BCA=٠٠٠٠٠٠-٠٠٠٠٩٩", "expected CHANNEL=FIRST-LAST"),
        ("BCA=000000-00099", "same number of digits"),
        ("BCA=000099-000000", "does not fit"),
        ("BCA:fixed=000000-000099", "open or closed VAs, not 'fixed'"),
        # One kind narrowed, the other left at the default 0-99: they would share numbers.
        ("BCA:open=000000-000049", "ranges overlap"),
        ("BCA:open=000000-000049,BCA:closed=000040-000099", "ranges overlap"),
        ("BCA:open=0000000-0000049,BCA:closed=000050-000099", "same number of digits"),
        ("XBANK:open=00-09", "both XBANK:open= and :closed="),
    ],
)
def test_bad_overrides_are_refused(spec: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_va_rule_overrides(spec)
