from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.handlers.browse import (
    charge_channel,
    code_keyboard,
    code_list_keyboard,
    kind_label,
    render_code_detail,
    render_code_list,
)
from bot.keyboards import Page
from storage import Charge, ChargeSource, Code, CodeKind, CodeStatus, CodeSummary

WIB = ZoneInfo("Asia/Jakarta")
CREATED = datetime(2026, 11, 24, 7, 5, tzinfo=UTC)  # 14:05 WIB


def make_code(code_id: int = 17, **changes: object) -> Code:
    code = Code(
        id=code_id,
        seller_id=501,
        kind=CodeKind.VA,
        bank="BCA",
        va_suffix=42,
        customer="Bu Ani",
        amount=25_000,
        request_key="1:2",
        client_reference_id=f"kb{code_id:030d}",
        pivot_session_id="sess",
        qr_content=None,
        va_number="1234500042",
        merchant_name=None,
        simulation=True,
        status=CodeStatus.ACTIVE,
        failure=None,
        created_at=CREATED,
        deactivated_at=None,
        last_payment_at=None,
    )
    return replace(code, **changes)


def make_charge(charge_id: int, amount: int, **changes: object) -> Charge:
    charge = Charge(
        id=charge_id,
        pivot_charge_id=f"ch-{charge_id}",
        code_id=17,
        seller_id=501,
        session_id="sess",
        client_reference_id=None,
        amount=amount,
        paid_at=datetime(2026, 11, 25, 16, 59, tzinfo=UTC),  # 23:59 WIB
        channel="BCA",
        issuer=None,
        reference=None,
        source=ChargeSource.CALLBACK,
        flags=frozenset(),
        recorded_at=CREATED,
    )
    return replace(charge, **changes)


def test_kind_label_names_the_bank_of_a_va() -> None:
    assert kind_label(make_code()) == "VA BCA"
    assert kind_label(make_code(kind=CodeKind.QRIS, bank=None)) == "QRIS"


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
    lines = render_code_list("id", page, summaries).splitlines()
    assert lines[0] == "<b>Kode Anda</b> (halaman 2/2)"
    assert lines[1] == "9. VA BCA · <b>Bu Ani</b> · Rp 25.000 · 3× · Rp 75.000"
    assert lines[2] == "10. QRIS · <b>&lt;b&gt;Budi&lt;/b&gt;</b> · bebas · 0× · Rp 0"
    assert lines[3].endswith("· ⛔")


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
        "en", code, WIB, count=12, total=290_000, page=Page.of(1, 12, 10), charges=charges
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
        "id", code, WIB, count=0, total=0, page=Page.of(1, 0, 10), charges=[]
    )
    assert "Nomor" not in body
    assert "Status: nonaktif sejak 26/11/2026 08:00 WIB" in body
    assert body.endswith("Belum ada pembayaran.")


def test_the_detail_keyboard_offers_only_what_makes_sense() -> None:
    def buttons(code: Code, page: Page) -> list[str | None]:
        markup = code_keyboard("en", code, page)
        return [button.callback_data for row in markup.inline_keyboard for button in row]

    one_page = Page.of(1, 3, 10)
    assert buttons(make_code(), one_page) == ["code:17:resend", "code:17:off", "codes:p:1"]
    deactivated = make_code(status=CodeStatus.DEACTIVATED)
    assert buttons(deactivated, Page.of(2, 30, 10)) == [
        "code:17:resend",
        "code:17:p:1",
        "code:17:p:3",
        "codes:p:1",
    ]
    for status in (CodeStatus.PENDING, CodeStatus.FAILED):
        assert buttons(make_code(status=status), one_page) == ["codes:p:1"]
