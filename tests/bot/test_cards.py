"""The card a buyer gets: its text in both languages, and how it is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.constants import ParseMode

from bot.cards import CardPhotos, qr_label, render_card, render_qr_photo, send_card
from bot.qr import QrLabel, render_labelled_qr_png
from pivot_client.simulator import build_static_qris
from storage import Code, CodeKind, CodeStatus
from tests.standins import FakeTelegram, code_row, decode_qr, serving

NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)  # 10:00 WIB
WIB = ZoneInfo("Asia/Jakarta")


NMID = "ID1234567890123"


def qr_content(name: str = "WARUNG SARI") -> str:
    """A static QRIS whose tag 59 (the name payers see) is ``name``."""
    return build_static_qris(
        merchant_id="000000000001", nmid=NMID, reference="SIMX", merchant_name=name
    )


QR_CONTENT = qr_content()
VA_NUMBER = "7663000000000042"


def qris(**changes: Any) -> Code:
    """An active QRIS code."""
    fields = {
        "seller_id": 2001,
        "client_reference_id": "kb" + "0" * 30,
        "pivot_session_id": "session",
        "qr_content": QR_CONTENT,
        "merchant_name": "Pivot",  # Pivot's qr.merchantName, as codes made before tag 59 kept it
        "simulation": False,
        "created_at": NOW,
    }
    return code_row(7, **(fields | changes))


def va(bank: str = "BCA", **changes: Any) -> Code:
    """An active closed VA code, valid for 30 days."""
    fields = {
        "kind": CodeKind.VA,
        "bank": bank,
        "va_suffix": 42,
        "qr_content": None,
        "va_number": VA_NUMBER,
        "merchant_name": None,
        "amount": 50_000,
        "expires_at": NOW + timedelta(days=30),  # Pivot's session expiryAt
    }
    return qris(**{**fields, **changes})


def test_qris_card_with_expected_amount() -> None:
    card = render_card(qris(), "id", zone=WIB)

    assert "QRIS untuk Bu Ani" in card
    assert "Nominal yang diharapkan: <b>Rp 25.000</b>" in card
    assert "Nama di QR: WARUNG SARI" in card  # tag 59, not Pivot's merchantName
    assert "Pivot" not in card
    assert "Scan/QRIS" in card
    assert "(GoPay, OVO, DANA, ShopeePay, LinkAja, …)" in card  # QRIS_APPS
    assert "bisa dipakai berkali-kali" in card
    assert "SIMULASI" not in card and "dinonaktifkan" not in card


def test_open_qris_card_says_bebas_or_open() -> None:
    assert "<b>bebas</b>" in render_card(qris(amount=None), "id", zone=WIB)
    english = render_card(qris(amount=None), "en", zone=WIB)
    assert "<b>open</b>" in english and "QRIS for Bu Ani" in english


def test_closed_va_card_has_the_full_number_to_copy_and_the_fixed_amount() -> None:
    card = render_card(va(), "id", zone=WIB)

    assert "Virtual Account Bank Central Asia (BCA)" in card
    assert f"<code>{VA_NUMBER}</code>" in card
    assert "Nominal: <b>Rp 50.000</b> (tetap)" in card
    assert "m-Transfer → BCA Virtual Account" in card  # BCA's own menu
    # Until when Pivot takes payments on it, in the seller's zone, not "for ever".
    assert card.endswith(
        "Berlaku sampai <b>04/02/2026 10:00 WIB</b>; sampai saat itu kode ini bisa "
        "dibayar berkali-kali."
    )
    assert "Kode ini bisa dipakai berkali-kali" not in card
    makassar = render_card(va(), "en", zone=ZoneInfo("Asia/Makassar"))
    assert "Valid until <b>04/02/2026 11:00 WITA</b>" in makassar


def test_open_va_card_has_no_expiry_and_generic_menu_for_unknown_menus() -> None:
    card = render_card(va("PERMATA", amount=None, expires_at=None), "en", zone=WIB)

    assert "Amount: <b>open</b>" in card
    assert "Transfer → Virtual Account" in card and "BRIVA" not in card
    assert "30 days" not in card and "Valid until" not in card
    assert card.endswith("This code can be paid many times.")


def test_marks_for_simulations_and_deactivated_codes() -> None:
    card = render_card(
        qris(simulation=True, status=CodeStatus.DEACTIVATED, deactivated_at=NOW), "id", zone=WIB
    )
    lines = card.split("\n")

    assert lines[0].startswith("🧪") and "SIMULASI" in lines[0]
    assert lines[1].startswith("⛔") and "dinonaktifkan" in lines[1]
    assert "SIMULATION" in render_card(va(simulation=True), "en", zone=WIB)


def test_customer_and_merchant_are_escaped() -> None:
    card = render_card(qris(customer="<b>Budi & co", qr_content=qr_content("A<B")), "id", zone=WIB)

    assert "&lt;b&gt;Budi &amp; co" in card and "<b>Budi" not in card
    assert "A&lt;B" in card


class RecordingBot:
    """Stands in for telegram.Bot: records what would be sent."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def send_photo(self, chat_id: int, **kwargs: Any) -> str:
        self.calls.append(("send_photo", {"chat_id": chat_id, **kwargs}))
        return "photo"

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> str:
        self.calls.append(("send_message", {"chat_id": chat_id, "text": text, **kwargs}))
        return "message"


async def test_qris_is_sent_as_a_photo_that_scans_to_pivots_content() -> None:
    bot = RecordingBot()

    assert await send_card(bot, 55, qris(), "id", zone=WIB) == "photo"  # type: ignore[arg-type]

    [(method, sent)] = bot.calls
    assert method == "send_photo" and sent["chat_id"] == 55
    assert decode_qr(sent["photo"]) == [QR_CONTENT]
    # Labelled in the seller's language: the photo is the one drawn with the code's label.
    assert sent["photo"] == render_labelled_qr_png(QR_CONTENT, qr_label(qris(), "id"))
    assert sent["caption"] == render_card(qris(), "id", zone=WIB)
    assert sent["parse_mode"] == ParseMode.HTML


async def test_va_is_sent_as_a_message() -> None:
    bot = RecordingBot()

    assert await send_card(bot, 55, va(), "en", zone=WIB) == "message"  # type: ignore[arg-type]

    [(method, sent)] = bot.calls
    assert method == "send_message"
    assert (
        sent["text"] == render_card(va(), "en", zone=WIB) and sent["parse_mode"] == ParseMode.HTML
    )


async def test_card_photos_reach_telegram_unseen_and_a_refusal_leaves_them_out() -> None:
    fake = FakeTelegram(flood=None)
    one, other = qris(id=7), qris(id=8, qr_content=qr_content("TOKO LAIN"))
    async with serving(fake.app) as server:
        url = server.url
        async with Bot(fake.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot") as bot:
            photos = CardPhotos(bot)
            alone = await photos(55, [one], "id")
            fake.block_chat(56)
            refused = await photos(56, [one, other], "id")

            [sent] = fake.sent_messages(55)
            assert (sent.method, sent.params["disable_notification"]) == ("sendPhoto", True)
            assert sent.photo is not None and decode_qr(sent.photo) == [QR_CONTENT]
            assert alone == {7: (await bot.send_photo(57, sent.photo)).photo[-1].file_id}
            assert [c.params["message_ids"] for c in fake.calls_to("deleteMessages")] == [
                [sent.message_id]
            ]
            assert refused == {}
            assert fake.sent_messages(56) == []


def test_the_qr_label_says_whose_how_much_the_payee_and_the_nmid() -> None:
    assert qr_label(qris(), "id") == QrLabel(
        title="Untuk: Bu Ani",
        lines=("Nominal: Rp 25.000", "Nama penerima: WARUNG SARI", f"NMID: {NMID}"),
        banner=None,
    )
    assert qr_label(qris(amount=None), "en") == QrLabel(
        title="For: Bu Ani",
        lines=("Open amount", "Payee: WARUNG SARI", f"NMID: {NMID}"),
        banner=None,
    )
    assert qr_label(qris(amount=None), "id").lines[0] == "Nominal bebas"


def test_a_simulated_code_is_marked_on_the_photo_in_the_sellers_language() -> None:
    assert qr_label(qris(simulation=True), "id").banner == "SIMULASI"
    assert qr_label(qris(simulation=True), "en").banner == "SIMULATION"


def test_the_label_is_plain_text_not_html() -> None:
    label = qr_label(qris(customer="<b>Budi & co", qr_content=qr_content("A&B")), "id")

    assert label.title == "Untuk: <b>Budi & co"  # drawn as typed, not escaped
    assert "Nama penerima: A&B" in label.lines


def test_a_qr_without_tag_59_or_an_nmid_leaves_those_lines_out() -> None:
    bare = "000201010211" + "5802ID" + "6304ABCD"

    assert qr_label(qris(qr_content=bare), "id").lines == ("Nominal: Rp 25.000",)
    assert decode_qr(render_qr_photo(qris(qr_content=bare), "id")) == [bare]
