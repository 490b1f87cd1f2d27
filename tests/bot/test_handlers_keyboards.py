from __future__ import annotations

import re

import pytest

from bot.keyboards import (
    CODE_DEACTIVATE,
    CODE_DEACTIVATE_CONFIRMED,
    CODE_RESEND,
    CODE_SHOW,
    CODES_PAGE,
    SELLERS_PAGE,
    Page,
    code_data,
    codes_page_data,
    pager_row,
    sellers_page_data,
)

PATTERNS = (CODES_PAGE, CODE_SHOW, CODE_RESEND, CODE_DEACTIVATE, CODE_DEACTIVATE_CONFIRMED)
BIGGEST_ID = 999_999_999_999_999_999


@pytest.mark.parametrize(
    ("requested", "total", "expected"),
    [
        (1, 0, Page(number=1, count=1, offset=0, limit=8)),
        (1, 8, Page(number=1, count=1, offset=0, limit=8)),
        (2, 9, Page(number=2, count=2, offset=8, limit=8)),
        (99, 20, Page(number=3, count=3, offset=16, limit=8)),  # past the end: the last page
        (0, 20, Page(number=1, count=3, offset=0, limit=8)),  # forged 0: the first page
    ],
)
def test_a_requested_page_is_clamped_to_the_pages_that_exist(
    requested: int, total: int, expected: Page
) -> None:
    assert Page.of(requested, total, 8) == expected


def test_a_page_knows_its_neighbours() -> None:
    first, middle, last = (Page.of(number, 30, 10) for number in (1, 2, 3))
    assert (first.has_previous, first.has_next) == (False, True)
    assert (middle.has_previous, middle.has_next) == (True, True)
    assert (last.has_previous, last.has_next) == (True, False)


@pytest.mark.parametrize(
    ("data", "pattern", "groups"),
    [
        (codes_page_data(2), CODES_PAGE, ("2",)),
        (code_data(17), CODE_SHOW, ("17", None)),
        (code_data(17, page=3), CODE_SHOW, ("17", "3")),
        (code_data(17, "resend"), CODE_RESEND, ("17",)),
        (code_data(17, "off"), CODE_DEACTIVATE, ("17",)),
        (code_data(17, "off!"), CODE_DEACTIVATE_CONFIRMED, ("17",)),
        (sellers_page_data(4), SELLERS_PAGE, ("4",)),
    ],
)
def test_each_button_is_matched_by_exactly_its_own_pattern(
    data: str, pattern: re.Pattern[str], groups: tuple[str | None, ...]
) -> None:
    match = pattern.match(data)
    assert match is not None and match.groups() == groups
    others = [other for other in (*PATTERNS, SELLERS_PAGE) if other is not pattern]
    assert not any(other.match(data) for other in others)


@pytest.mark.parametrize(
    "forged",
    [
        "code:abc",
        "code:-1",
        "code:17:resend:1",
        "code:17:p:",
        "codes:p:-2",
        "code:17:off!!",
        "code:17\n",
        "code:1:p:1234567",
        "code:" + "9" * 19,
        "code:1:seller:2",
    ],
)
def test_anything_else_matches_nothing(forged: str) -> None:
    assert not any(pattern.match(forged) for pattern in (*PATTERNS, SELLERS_PAGE))


def test_callback_data_fits_telegrams_64_bytes_even_for_the_largest_ids() -> None:
    shapes = [
        code_data(BIGGEST_ID),
        code_data(BIGGEST_ID, page=999_999),
        code_data(BIGGEST_ID, "resend"),
        code_data(BIGGEST_ID, "off!"),
        codes_page_data(999_999),
        sellers_page_data(999_999),
    ]
    assert all(len(data.encode()) <= 64 for data in shapes)
    assert all(any(p.match(data) for p in (*PATTERNS, SELLERS_PAGE)) for data in shapes)


def test_pager_row_offers_only_the_pages_that_exist() -> None:
    assert pager_row("en", Page.of(1, 5, 10), codes_page_data) == []
    first = pager_row("en", Page.of(1, 25, 10), codes_page_data)
    assert [(b.text, b.callback_data) for b in first] == [("Next ▶️", "codes:p:2")]
    middle = pager_row("id", Page.of(2, 25, 10), codes_page_data)
    assert [b.callback_data for b in middle] == ["codes:p:1", "codes:p:3"]
    assert "◀️" in middle[0].text
