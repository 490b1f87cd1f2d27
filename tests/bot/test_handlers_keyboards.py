from __future__ import annotations

import re

import pytest

from bot.keyboards import (
    CODE_DEACTIVATE,
    CODE_DEACTIVATE_CONFIRMED,
    CODE_LINK,
    CODE_LINK_REPLACE,
    CODE_LINK_REVOKE,
    CODE_OPEN,
    CODE_REACTIVATE,
    CODE_RECEIPTS,
    CODE_RENAME,
    CODE_RENEW,
    CODE_RESEND,
    CODE_SHOW,
    CODE_STICKER,
    CODES_OPEN,
    CODES_OPEN_DATA,
    CODES_PAGE,
    CODES_SEARCH_PAGE,
    NEW_ANY,
    NEW_BANK,
    NEW_CANCEL,
    NEW_CANCEL_DATA,
    NEW_KIND,
    NEW_OPEN_AMOUNT,
    NEW_OPEN_AMOUNT_DATA,
    NEW_RETRY,
    NEW_VA_INSTEAD,
    SELLERS_PAGE,
    Page,
    button_name,
    code_data,
    code_receipts_data,
    codes_page_data,
    codes_search_data,
    new_bank_data,
    new_kind_data,
    new_retry_data,
    new_va_instead_data,
    pager_row,
    sellers_page_data,
)

PATTERNS = (
    CODES_PAGE,
    CODES_OPEN,
    CODES_SEARCH_PAGE,
    CODE_SHOW,
    CODE_RESEND,
    CODE_DEACTIVATE,
    CODE_DEACTIVATE_CONFIRMED,
    CODE_OPEN,
    CODE_RENAME,
    CODE_REACTIVATE,
    CODE_STICKER,
)
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
        (code_data(17, "open"), CODE_OPEN, ("17",)),
        (code_data(17, "rename"), CODE_RENAME, ("17",)),
        (code_data(17, "on"), CODE_REACTIVATE, ("17",)),
        (CODES_OPEN_DATA, CODES_OPEN, ()),
        (codes_search_data(812, 3), CODES_SEARCH_PAGE, ("812", "3")),
        (code_data(17, "sticker"), CODE_STICKER, ("17",)),
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
        "code:17:open:1",
        "code:17:on!",
        "codes:open:2",
        "codes:q:812",
        "codes:q:bu ani:p:1",
        "codes:q:812:p:1:x",
        "code:17:sticker:1",
        "code:17:stickers",
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
        code_data(BIGGEST_ID, "open"),
        code_data(BIGGEST_ID, "rename"),
        code_data(BIGGEST_ID, "on"),
        code_data(BIGGEST_ID, "sticker"),
        codes_page_data(999_999),
        codes_search_data(BIGGEST_ID, 999_999),
        sellers_page_data(999_999),
    ]
    assert all(len(data.encode()) <= 64 for data in shapes)
    assert all(any(p.match(data) for p in (*PATTERNS, SELLERS_PAGE)) for data in shapes)


def test_a_long_customer_name_is_cut_to_fit_a_button() -> None:
    assert button_name("Bu Ani") == "Bu Ani"
    assert button_name("x" * 24) == "x" * 24
    assert button_name("x" * 25) == "x" * 23 + "…"


def test_pager_row_offers_only_the_pages_that_exist() -> None:
    assert pager_row("en", Page.of(1, 5, 10), codes_page_data) == []
    first = pager_row("en", Page.of(1, 25, 10), codes_page_data)
    assert [(b.text, b.callback_data) for b in first] == [("Next ▶️", "codes:p:2")]
    middle = pager_row("id", Page.of(2, 25, 10), codes_page_data)
    assert [b.callback_data for b in middle] == ["codes:p:1", "codes:p:3"]
    assert "◀️" in middle[0].text


NEW_PATTERNS = (NEW_KIND, NEW_BANK, NEW_OPEN_AMOUNT, NEW_CANCEL, NEW_RETRY, NEW_VA_INSTEAD)
EVERY_PATTERN = (*PATTERNS, CODE_RENEW, SELLERS_PAGE, *NEW_PATTERNS)


@pytest.mark.parametrize(
    ("data", "sent_before", "pattern", "groups"),
    [
        # The data as the buttons of /new were spelled before one scheme built them all: a
        # question or an offer already in a chat must still be understood.
        (new_kind_data("QRIS"), "new:kind:QRIS", NEW_KIND, ("QRIS",)),
        (new_kind_data("VA"), "new:kind:VA", NEW_KIND, ("VA",)),
        (new_bank_data("BCA"), "new:bank:BCA", NEW_BANK, ("BCA",)),
        (NEW_OPEN_AMOUNT_DATA, "new:open", NEW_OPEN_AMOUNT, ()),
        (NEW_CANCEL_DATA, "new:cancel", NEW_CANCEL, ()),
        (new_retry_data(812), "new:retry:812", NEW_RETRY, ("812",)),
        (new_va_instead_data(17), "new:va_for:17", NEW_VA_INSTEAD, ("17",)),
        (code_data(17, "renew"), "code:17:renew", CODE_RENEW, ("17",)),
    ],
)
def test_every_new_and_renew_button_keeps_its_data_and_only_its_pattern_matches(
    data: str, sent_before: str, pattern: re.Pattern[str], groups: tuple[str, ...]
) -> None:
    assert data == sent_before
    match = pattern.match(data)
    assert match is not None and match.groups() == groups
    assert [other for other in EVERY_PATTERN if other.match(data)] == [pattern]
    assert bool(NEW_ANY.match(data)) == data.startswith("new:")


@pytest.mark.parametrize(
    "forged",
    [
        "new:kind:qris",
        "new:kind:SEPA",
        "new:bank:",
        "new:bank:B C",
        "new:open!",
        "new:retry:x",
        "new:retry:" + "9" * 19,
        "new:va_for:-1",
        "new:cancel\n",
    ],
)
def test_forged_new_data_matches_no_pattern_but_is_still_ours_to_call_stale(forged: str) -> None:
    assert not any(pattern.match(forged) for pattern in EVERY_PATTERN)
    assert NEW_ANY.match(forged)


def test_new_and_renew_data_fit_telegrams_64_bytes() -> None:
    shapes = [
        new_retry_data(BIGGEST_ID),
        new_va_instead_data(BIGGEST_ID),
        new_bank_data("MANDIRI"),
        code_data(BIGGEST_ID, "renew"),
    ]
    assert all(len(data.encode()) <= 64 for data in shapes)
    assert all(any(p.match(data) for p in EVERY_PATTERN) for data in shapes)


LINK_PATTERNS = (CODE_LINK, CODE_LINK_REPLACE, CODE_LINK_REVOKE, CODE_RECEIPTS)


@pytest.mark.parametrize(
    ("data", "pattern", "groups"),
    [
        (code_data(17, "link"), CODE_LINK, ("17",)),
        (code_data(17, "relink"), CODE_LINK_REPLACE, ("17",)),
        (code_data(17, "unlink"), CODE_LINK_REVOKE, ("17",)),
        (code_receipts_data(17, True), CODE_RECEIPTS, ("17", "on")),
        (code_receipts_data(17, False), CODE_RECEIPTS, ("17", "off")),
    ],
)
def test_each_buyer_link_button_is_matched_by_exactly_its_own_pattern(
    data: str, pattern: re.Pattern[str], groups: tuple[str, ...]
) -> None:
    match = pattern.match(data)
    assert match is not None and match.groups() == groups
    assert [other for other in (*EVERY_PATTERN, *LINK_PATTERNS) if other.match(data)] == [pattern]
    assert len(code_receipts_data(BIGGEST_ID, False).encode()) <= 64


@pytest.mark.parametrize(
    "forged", ["code:17:receipts", "code:17:receipts:yes", "code:17:link:1", "code:x:unlink"]
)
def test_forged_buyer_link_data_matches_nothing(forged: str) -> None:
    assert not any(pattern.match(forged) for pattern in (*EVERY_PATTERN, *LINK_PATTERNS))
