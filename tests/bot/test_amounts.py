from __future__ import annotations

import pytest

from bot.amounts import AmountError, AmountProblem, format_rupiah, is_unit_word, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25000", 25_000),
        ("25.000", 25_000),
        ("Rp 25.000", 25_000),
        ("Rp25.000", 25_000),
        ("rp. 25.000", 25_000),
        ("25rb", 25_000),
        ("25 rb", 25_000),
        ("25ribu", 25_000),
        ("25k", 25_000),
        ("25K", 25_000),
        ("1,5jt", 1_500_000),
        ("1.5jt", 1_500_000),
        ("2 juta", 2_000_000),
        ("1.500.000", 1_500_000),
        ("25,000", 25_000),
        ("25.000,00", 25_000),
        ("  10000  ", 10_000),
        ("2,25rb", 2_250),
        ("25 ribu", 25_000),
        ("1,5 juta", 1_500_000),
        ("50 rb", 50_000),
        ("25 k", 25_000),
        ("2 jt", 2_000_000),
        ("Rp 25 rb", 25_000),
    ],
)
def test_parses_every_form_sellers_type(text: str, expected: int) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", AmountProblem.EMPTY),
        ("Rp", AmountProblem.EMPTY),
        ("0", AmountProblem.ZERO),
        ("Rp 0", AmountProblem.ZERO),
        ("0rb", AmountProblem.ZERO),
        ("-5000", AmountProblem.NEGATIVE),
        ("Rp -5.000", AmountProblem.NEGATIVE),
        ("25,5", AmountProblem.FRACTION),
        ("10000,50", AmountProblem.FRACTION),
        ("1,2345rb", AmountProblem.FRACTION),
        ("dua puluh ribu", AmountProblem.FORMAT),
        ("25.00.0", AmountProblem.FORMAT),
        ("25..000", AmountProblem.FORMAT),
        ("12abc", AmountProblem.FORMAT),
        ("1e5", AmountProblem.FORMAT),
        ("25.000.00", AmountProblem.FORMAT),
        ("rb", AmountProblem.FORMAT),
        ("9" * 19, AmountProblem.TOO_LARGE),
    ],
)
def test_refuses_what_is_not_a_whole_positive_amount(text: str, problem: AmountProblem) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert caught.value.problem is problem


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(0, "Rp 0"), (500, "Rp 500"), (25_000, "Rp 25.000"), (1_500_000, "Rp 1.500.000")],
)
def test_formats_rupiah_with_dots(amount: int, shown: str) -> None:
    assert format_rupiah(amount) == shown


@pytest.mark.parametrize(
    ("word", "unit"),
    [
        ("rb", True),
        ("RIBU", True),
        ("k", True),
        ("jt", True),
        ("juta", True),
        ("ribuan", True),
        ("jutaan", True),
        ("Kirana", False),
        ("Budi", False),
        ("Bu", False),
    ],
)
def test_unit_words_belong_to_the_amount_names_do_not(word: str, unit: bool) -> None:
    assert is_unit_word(word) is unit
