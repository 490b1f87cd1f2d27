from __future__ import annotations

from datetime import UTC, datetime

from bot.notifications import Flag, PaymentNotice, render_combined, render_payment


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
