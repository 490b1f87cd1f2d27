from __future__ import annotations

import pytest

from bot.amounts import AmountProblem
from bot.drafts import (
    MAX_NAME_LENGTH,
    Draft,
    DraftProblem,
    Step,
    clean_customer_name,
    parse_new_command,
)
from storage import CodeKind

BANKS = ("BCA", "BRI", "BNI", "MANDIRI")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/new", Draft()),
        ("/new qris Budi", Draft(CodeKind.QRIS, customer="Budi", open_amount=True)),
        (
            "/new QRIS Budi Santoso",
            Draft(CodeKind.QRIS, customer="Budi Santoso", open_amount=True),
        ),
        ("/new qris 25000 Budi", Draft(CodeKind.QRIS, customer="Budi", amount=25_000)),
        ("/new qris Rp 25.000 Budi", Draft(CodeKind.QRIS, customer="Budi", amount=25_000)),
        ("/new qris 25rb", Draft(CodeKind.QRIS, amount=25_000)),
        ("/new qris", Draft(CodeKind.QRIS)),
        ("/new va", Draft(CodeKind.VA)),
        ("/new va bca", Draft(CodeKind.VA, bank="BCA")),
        ("/new va bca Budi", Draft(CodeKind.VA, bank="BCA", customer="Budi")),
        ("/new va bca 25000 Budi", Draft(CodeKind.VA, "BCA", "Budi", 25_000)),
        (
            "/new va BRI bebas Siti Aminah",
            Draft(CodeKind.VA, "BRI", "Siti Aminah", open_amount=True),
        ),
        ("/new va mandiri open Ani", Draft(CodeKind.VA, "MANDIRI", "Ani", open_amount=True)),
        ("/new va bni 1,5jt", Draft(CodeKind.VA, bank="BNI", amount=1_500_000)),
        ("/new va bca 25 rb Budi", Draft(CodeKind.VA, "BCA", "Budi", 25_000)),
        ("/new qris 25 ribu Bu Ani", Draft(CodeKind.QRIS, customer="Bu Ani", amount=25_000)),
        ("/new qris 1,5 juta Budi", Draft(CodeKind.QRIS, customer="Budi", amount=1_500_000)),
        ("/new qris 25 K Budi", Draft(CodeKind.QRIS, customer="Budi", amount=25_000)),
        ("/new qris 2 jt", Draft(CodeKind.QRIS, amount=2_000_000)),
        ("/new qris Rp 50 rb Budi", Draft(CodeKind.QRIS, customer="Budi", amount=50_000)),
        ("/new qris 25000 Kirana", Draft(CodeKind.QRIS, customer="Kirana", amount=25_000)),
    ],
)
def test_one_message_fills_what_it_says(text: str, expected: Draft) -> None:
    parsed = parse_new_command(text.split()[1:], BANKS)
    assert parsed.problem is None and parsed.amount_error is None
    assert parsed.draft == expected


@pytest.mark.parametrize(
    ("draft", "step"),
    [
        (Draft(), Step.KIND),
        (Draft(CodeKind.VA), Step.BANK),
        (Draft(CodeKind.VA, "BCA"), Step.NAME),
        (Draft(CodeKind.QRIS), Step.NAME),
        (Draft(CodeKind.QRIS, customer="Budi"), Step.AMOUNT),
        (Draft(CodeKind.QRIS, customer="Budi", open_amount=True), Step.READY),
        (Draft(CodeKind.VA, "BCA", "Budi", 10_000), Step.READY),
    ],
)
def test_the_next_step_is_the_first_missing_piece(draft: Draft, step: Step) -> None:
    assert draft.next_step is step


def test_an_unknown_kind_or_bank_is_reported() -> None:
    parsed = parse_new_command(["gopay", "Budi"], BANKS)
    assert parsed.problem is DraftProblem.UNKNOWN_KIND and parsed.rejected == "gopay"
    parsed = parse_new_command(["va", "xyz", "10000", "Budi"], BANKS)
    assert parsed.problem is DraftProblem.UNKNOWN_BANK and parsed.rejected == "xyz"
    assert parsed.draft == Draft(CodeKind.VA)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["va", "bca", "0", "Budi"], AmountProblem.ZERO),
        (["va", "bca", "-5000", "Budi"], AmountProblem.NEGATIVE),
        (["qris", "12,5", "Budi"], AmountProblem.FRACTION),
        (["qris", "25x", "Budi"], AmountProblem.FORMAT),
        (["qris", "25", "ribuan", "Budi"], AmountProblem.FORMAT),
        (["va", "bca", "2", "jutaan", "Budi"], AmountProblem.FORMAT),
    ],
)
def test_a_bad_amount_keeps_the_rest_and_says_why(args: list[str], problem: AmountProblem) -> None:
    parsed = parse_new_command(args, BANKS)
    assert parsed.amount_error is not None and parsed.amount_error.problem is problem
    assert parsed.draft.customer == "Budi"
    assert parsed.draft.next_step is Step.AMOUNT


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Budi   Santoso ", "Budi Santoso"),
        ("Budi\nSantoso", "Budi Santoso"),
        ("Bu\x00di\x07", "Budi"),
        ("Budi\u200bSantoso\u202e", "BudiSantoso"),
        ("<b>Ani</b>", "<b>Ani</b>"),
        ("\t\n ", ""),
        ("Siti 🌸", "Siti 🌸"),
    ],
)
def test_customer_names_are_cleaned(raw: str, clean: str) -> None:
    assert clean_customer_name(raw) == clean


def test_customer_names_are_capped() -> None:
    assert len(clean_customer_name("A" * 500)) == MAX_NAME_LENGTH
