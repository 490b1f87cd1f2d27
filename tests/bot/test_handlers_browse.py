from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.handlers.browse import (
    code_keyboard,
    code_list_keyboard,
    render_code_detail,
    render_code_list,
)
from bot.keyboards import codes_search_data
from bot.notifications import charge_channel
from bot.paging import Page
from storage import Charge, Code, CodeKind, CodeStatus, CodeSummary
from tests.standins import charge_row, code_row

WIB = ZoneInfo("Asia/Jakarta")
CREATED = datetime(2026, 11, 24, 7, 5, tzinfo=UTC)  # 14:05 WIB
NOW = CREATED + timedelta(days=1)
UNTIL = CREATED + timedelta(days=30)  # 24/12/2026 14:05 WIB


def make_code(code_id: int = 17, **changes: object) -> Code:
    fields = {
        "kind": CodeKind.VA,
        "bank": "BCA",
        "va_suffix": 42,
        "qr_content": None,
        "va_number": "1234500042",
        "created_at": CREATED,
    }
    return code_row(code_id, **(fields | changes))


def make_charge(charge_id: int, amount: int, **changes: object) -> Charge:
    fields: dict[str, object] = {
        "code_id": 17,
        "paid_at": datetime(2026, 11, 25, 16, 59, tzinfo=UTC),  # 23:59 WIB
        "channel": "BCA",
        "recorded_at": CREATED,
    }
    return charge_row(charge_id, amount, **(fields | changes))


def test_kind_label_names_the_bank_of_a_va() -> None:
    va, qris = make_code(), make_code(kind=CodeKind.QRIS, bank=None)
    assert va.kind.label(va.bank) == "VA BCA"
    assert qris.kind.label(qris.bank) == "QRIS"


def test_charge_channel_names_the_bank_or_the_qris_issuer() -> None:
    assert charge_channel("en", make_charge(1, 1)) == "VA BCA"
    qris = make_charge(1, 1, channel="QRIS", issuer="GoPay")
    assert charge_channel("en", qris) == "QRIS · GoPay"
    assert charge_channel("id", replace(qris, issuer=None)) == "QRIS"


def test_the_list_numbers_codes_across_pages_and_says_what_each_is() -> None:
    page = Page.of(2, 10, 8)
    summaries = [
        CodeSummary(make_code(9), payment_count=3, payment_total=75_000),
        CodeSummary(
            make_code(8, kind=CodeKind.QRIS, bank=None, amount=None, customer="<b>Budi</b>"),
            payment_count=0,
            payment_total=0,
        ),
        CodeSummary(make_code(7, status=CodeStatus.DEACTIVATED), 1, 25_000),
    ]
    lines = render_code_list("id", page, summaries, zone=WIB, now=NOW).splitlines()
    assert lines[0] == "<b>Kode Anda</b> (halaman 2/2)"
    assert lines[1] == "9. VA BCA · <b>Bu Ani</b> · Rp 25.000 · 3× · Rp 75.000"
    assert lines[2] == "10. QRIS · <b>&lt;b&gt;Budi&lt;/b&gt;</b> · bebas · 0× · Rp 0"
    assert lines[3].endswith("· ⛔")


def test_a_searchs_list_says_what_was_looked_for_and_its_pages_keep_the_search() -> None:
    page = Page.of(1, 9, 8)
    summaries = [CodeSummary(make_code(5), 0, 0)]
    body = render_code_list("en", page, summaries, zone=WIB, now=NOW, search="<ani>")
    assert body.splitlines()[0] == "<b>Codes matching “&lt;ani&gt;”</b> (page 1/2)"
    rows = code_list_keyboard(
        "en", page, summaries, lambda number: codes_search_data(812, number)
    ).inline_keyboard
    assert rows[0][0].callback_data == "code:5"
    assert [button.callback_data for button in rows[-1]] == ["codes:q:812:p:2"]


def test_the_list_keyboard_opens_each_code_and_pages() -> None:
    page = Page.of(1, 9, 8)
    long_name = "Toko Sembako Berkah Jaya Abadi Sentosa"
    summaries = [CodeSummary(make_code(5, customer=long_name), 0, 0)]
    rows = code_list_keyboard("en", page, summaries).inline_keyboard
    assert rows[0][0].callback_data == "code:5"
    assert rows[0][0].text.startswith("1. Toko Sembako")
    assert len(rows[0][0].text) <= 30
    assert [button.callback_data for button in rows[-1]] == ["codes:p:2"]


def test_the_detail_shows_number_status_and_payments_in_the_sellers_zone() -> None:
    code = make_code()
    charges = [
        make_charge(2, 20_000, flags=frozenset({"amount_mismatch"})),
        make_charge(1, 25_000, paid_at=datetime(2026, 11, 25, 17, 1, tzinfo=UTC)),
    ]
    body = render_code_detail(
        "en",
        code,
        WIB,
        count=12,
        total=290_000,
        page=Page.of(1, 12, 10),
        charges=charges,
        now=NOW,
    )
    assert "VA BCA · <b>Bu Ani</b>" in body
    assert "Number: <code>1234500042</code>" in body
    assert "Created: 24/11/2026 14:05 WIB" in body
    assert "Status: active" in body
    assert "Payments: 12× · total Rp 290.000" in body
    assert "<b>Payments</b> (page 1/2)" in body
    assert (
        "• 25/11/2026 23:59 WIB · <b>Rp 20.000</b> · VA BCA · ⚠️ amount differs "
        "(expected Rp 25.000)" in body
    )
    assert "• 26/11/2026 00:01 WIB · <b>Rp 25.000</b> · VA BCA" in body


def test_a_deactivated_code_says_since_when_and_an_unpaid_one_says_so() -> None:
    code = make_code(
        kind=CodeKind.QRIS,
        bank=None,
        va_number=None,
        status=CodeStatus.DEACTIVATED,
        deactivated_at=datetime(2026, 11, 26, 1, 0, tzinfo=UTC),
    )
    body = render_code_detail(
        "id", code, WIB, count=0, total=0, page=Page.of(1, 0, 10), charges=[], now=NOW
    )
    assert "Nomor" not in body
    assert "Status: nonaktif sejak 26/11/2026 08:00 WIB" in body
    assert body.endswith("Belum ada pembayaran.")


def test_the_detail_keyboard_offers_only_what_makes_sense() -> None:
    def buttons(code: Code, page: Page) -> list[str | None]:
        markup = code_keyboard("en", code, page, now=NOW)
        return [button.callback_data for row in markup.inline_keyboard for button in row]

    one_page = Page.of(1, 3, 10)
    assert buttons(make_code(), one_page) == [
        "code:17:resend",
        "code:17:off",
        "code:17:rename",
        "code:17:link",
        "codes:p:1",
    ]
    deactivated = make_code(status=CodeStatus.DEACTIVATED)
    assert buttons(deactivated, Page.of(2, 30, 10)) == [
        "code:17:resend",
        "code:17:on",
        "code:17:rename",
        "code:17:p:1",
        "code:17:p:3",
        "codes:p:1",
    ]
    for status in (CodeStatus.PENDING, CodeStatus.FAILED):
        assert buttons(make_code(status=status), one_page) == ["code:17:rename", "codes:p:1"]
    # A QRIS prints as a sticker while it is active, and never expires.
    qris = make_code(kind=CodeKind.QRIS, bank=None, va_number=None, qr_content="000201")
    assert buttons(qris, one_page) == [
        "code:17:resend",
        "code:17:off",
        "code:17:rename",
        "code:17:sticker",
        "code:17:link",
        "codes:p:1",
    ]
    qris_off = replace(qris, status=CodeStatus.DEACTIVATED)
    assert buttons(qris_off, one_page) == [
        "code:17:resend",
        "code:17:on",
        "code:17:rename",
        "codes:p:1",
    ]


def test_the_list_shows_until_when_a_closed_va_is_valid_and_marks_expired_ones() -> None:
    page = Page.of(1, 3, 8)
    summaries = [
        CodeSummary(make_code(3, expires_at=UNTIL), 0, 0),
        CodeSummary(make_code(2, expires_at=NOW - timedelta(minutes=1)), 2, 50_000),
        CodeSummary(make_code(1, expires_at=UNTIL, status=CodeStatus.DEACTIVATED), 0, 0),
    ]

    lines = render_code_list("en", page, summaries, zone=WIB, now=NOW).splitlines()

    assert lines[1] == "1. VA BCA · <b>Bu Ani</b> · Rp 25.000 · 0× · Rp 0 · 🗓 until 24/12/2026"
    assert lines[2] == "2. VA BCA · <b>Bu Ani</b> · Rp 25.000 · 2× · Rp 50.000 · ⌛ expired"
    assert lines[3].endswith("· ⛔")
    indonesian = render_code_list("id", page, summaries, zone=WIB, now=NOW).splitlines()
    assert indonesian[1].endswith(" · 🗓 s/d 24/12/2026")
    assert indonesian[2].endswith(" · ⌛ kedaluwarsa")


def test_the_detail_says_until_when_a_closed_va_is_valid_or_since_when_it_expired() -> None:
    def status_line(code: Code, now: datetime, language: str = "en") -> str:
        body = render_code_detail(
            language, code, WIB, count=0, total=0, page=Page.of(1, 0, 10), charges=[], now=now
        )
        return next(line for line in body.splitlines() if line.startswith("Status"))

    code = make_code(expires_at=UNTIL)
    assert status_line(code, NOW) == "Status: active, valid until 24/12/2026 14:05 WIB"
    expired = status_line(code, UNTIL)
    assert expired == (
        "Status: expired since 24/12/2026 14:05 WIB: Pivot takes no more payments on it"
    )
    assert status_line(code, UNTIL, "id").startswith("Status: kedaluwarsa sejak 24/12/2026")


def test_an_expiring_code_offers_a_new_one_and_an_expired_one_is_not_resent() -> None:
    def buttons(code: Code, now: datetime) -> list[str | None]:
        markup = code_keyboard("en", code, Page.of(1, 0, 10), now=now)
        return [button.callback_data for row in markup.inline_keyboard for button in row]

    code = make_code(expires_at=UNTIL)
    # Weeks to go: as any code.
    assert buttons(code, NOW) == [
        "code:17:resend",
        "code:17:off",
        "code:17:rename",
        "code:17:link",
        "codes:p:1",
    ]
    # Within three days of the end: the same, and a new code on offer.
    soon = UNTIL - timedelta(days=2)
    assert buttons(code, soon) == [
        "code:17:resend",
        "code:17:off",
        "code:17:rename",
        "code:17:renew",
        "code:17:link",
        "codes:p:1",
    ]
    # Expired: nothing to send or switch off, only the new code (and its name).
    assert buttons(code, UNTIL) == ["code:17:rename", "code:17:renew", "codes:p:1"]
    # A deactivated code is not renewed; it is reactivated until it expires.
    retired = make_code(expires_at=UNTIL, status=CodeStatus.DEACTIVATED)
    assert buttons(retired, soon) == [
        "code:17:resend",
        "code:17:on",
        "code:17:rename",
        "codes:p:1",
    ]
    assert buttons(retired, UNTIL) == ["code:17:rename", "codes:p:1"]


def test_a_code_with_a_buyer_link_shows_it_and_offers_to_change_it_and_its_receipts() -> None:
    def buttons(code: Code) -> list[list[str | None]]:
        markup = code_keyboard("en", code, Page.of(1, 0, 10), now=NOW, linked=True)
        return [[button.callback_data for button in row] for row in markup.inline_keyboard]

    assert buttons(make_code()) == [
        ["code:17:resend", "code:17:off"],
        ["code:17:rename"],
        ["code:17:relink", "code:17:unlink"],
        ["code:17:receipts:on"],
        ["codes:p:1"],
    ]
    # A switched-off or expired code keeps its link until revoked, but gets no new one.
    for code in (
        make_code(status=CodeStatus.DEACTIVATED, receipts=True),
        make_code(expires_at=NOW - timedelta(minutes=1), receipts=True),
    ):
        assert buttons(code)[-3:] == [["code:17:unlink"], ["code:17:receipts:off"], ["codes:p:1"]]

    link = "https://t.me/kodebayar_test_bot?start=b_" + "x" * 32
    body = render_code_detail(
        "id",
        make_code(receipts=True),
        WIB,
        count=0,
        total=0,
        page=Page.of(1, 0, 10),
        charges=[],
        now=NOW,
        link=link,
        buyers=2,
    )
    assert (
        f"🔗 Tautan pembeli (dibuka 2 orang):\n{link}\n🧾 Struk ke pembeli: <b>nyala</b>" in body
    )
