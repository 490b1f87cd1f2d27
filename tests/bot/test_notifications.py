from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.notifications import (
    MAX_CODE_BUTTONS,
    Flag,
    PaymentNotice,
    payment_buttons,
    render_combined,
    render_payment,
)


def notice(**changes: object) -> PaymentNotice:
    values: dict[str, object] = {
        "reference": "ch_01",
        "amount": 25_000,
        "customer": "Budi <Santoso>",
        "kind": "QRIS",
        "issuer": "GOPAY",
        "paid_at": datetime(2026, 11, 24, 7, 5, tzinfo=UTC),
        "count": 3,
        "total": 75_000,
        "language": "id",
        "timezone": "Asia/Jakarta",
    }
    values.update(changes)
    return PaymentNotice.model_validate(values)


def test_a_payment_message_has_everything_the_seller_needs() -> None:
    message = render_payment(notice())
    assert "Rp 25.000" in message
    assert "Budi &lt;Santoso&gt;" in message
    assert "QRIS · GOPAY" in message
    assert "24/11/2026 14:05 WIB" in message
    assert "3 pembayaran · total Rp 75.000" in message
    assert "ch_01" in message
    assert "⚠️" not in message


def test_flags_are_spelled_out() -> None:
    message = render_payment(
        notice(
            kind="VA",
            bank="BCA",
            issuer=None,
            expected_amount=30_000,
            flags=(Flag.AMOUNT_MISMATCH, Flag.DEACTIVATED_CODE, Flag.LATE),
            language="en",
        )
    )
    assert "Via: VA BCA" in message
    assert "differs from the expected Rp 30.000" in message
    assert "deactivated" in message
    assert "Late" in message


def test_a_backlog_becomes_one_message_listing_each_payment() -> None:
    backlog = [notice(reference=f"ch_{i}", amount=10_000 * i) for i in range(1, 4)]
    backlog.append(notice(reference="ch_4", amount=5_000, flags=(Flag.LATE,)))
    message = render_combined(backlog)
    assert message.startswith("💰 <b>4 pembayaran masuk · total Rp 65.000</b>")
    assert message.count("• 14:05") == 4
    assert "🕓 terlambat" in message


def test_the_notice_survives_the_outbox_round_trip() -> None:
    original = notice(flags=(Flag.LATE,), expected_amount=20_000)
    assert PaymentNotice.model_validate_json(original.model_dump_json()) == original


def test_a_payment_message_has_one_button_opening_its_code() -> None:
    [button] = payment_buttons([notice(code_id=17)])
    assert (button.text, button.data) == ("🔎 Lihat kode", "code:17:open")
    [english] = payment_buttons([notice(code_id=17, language="en")])
    assert english.text == "🔎 Open the code"


def test_a_combined_message_has_a_button_per_code_named_by_its_customer() -> None:
    backlog = [
        notice(code_id=5, customer="Bu Ani"),
        notice(code_id=9, customer="Pak Budi yang tinggal di ujung gang", kind="VA", bank="BCA"),
        notice(code_id=5, customer="Bu Ani"),
        notice(code_id=7, customer="<Cici>"),
    ]
    buttons = payment_buttons(backlog)
    assert [(button.text, button.data) for button in buttons] == [
        ("🔎 Bu Ani · QRIS", "code:5:open"),
        ("🔎 Pak Budi yang tinggal d… · VA BCA", "code:9:open"),
        ("🔎 <Cici> · QRIS", "code:7:open"),  # a button is plain text: nothing escaped
    ]


def test_past_the_cap_the_last_button_opens_the_whole_list() -> None:
    def datas(codes: int) -> list[str]:
        backlog = [notice(code_id=n, customer=f"Pelanggan {n}") for n in range(1, codes + 1)]
        return [button.data for button in payment_buttons(backlog)]

    assert datas(MAX_CODE_BUTTONS) == [f"code:{n}:open" for n in range(1, MAX_CODE_BUTTONS + 1)]
    many = datas(MAX_CODE_BUTTONS + 5)
    assert len(many) == MAX_CODE_BUTTONS
    assert many[:-1] == [f"code:{n}:open" for n in range(1, MAX_CODE_BUTTONS)]
    assert many[-1] == "codes:open"


def test_a_notice_queued_before_buttons_existed_still_reads_and_gets_none() -> None:
    queued = json.loads(notice(code_id=17).model_dump_json())
    del queued["code_id"]
    old = PaymentNotice.model_validate_json(json.dumps(queued))
    assert old.code_id is None
    assert render_payment(old) == render_payment(notice())
    assert payment_buttons([old]) == ()
    assert [button.data for button in payment_buttons([old, notice(code_id=3)])] == ["code:3:open"]
