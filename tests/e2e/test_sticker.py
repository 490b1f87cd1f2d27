"""A QRIS code that says whose it is, and its printable sticker, end to end: a seller makes a
code with /new, gets a labelled photo that scans, then prints it from /codes as a PDF and a
PNG; only their own active QRIS codes get one."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

from bot.cards import qr_label, render_qr_photo
from bot.clock import utcnow
from bot.sticker import PAGE_PIXELS
from bot.texts import text
from storage import Code, CodeStatus
from tests.standins import (
    SELLER,
    BotEnv,
    Edit,
    FakeUser,
    SentMessage,
    buttons,
    card_after,
    decode_qr,
    greyscale_pixels,
    ink_bands,
    new_seller,
    png_size,
    press,
    running_bot,
    say,
    settle,
)

A6_POINTS = (297.64, 419.53)  # 105 × 148 mm
STICKER = text("id", "button.sticker")


async def new_code(env: BotEnv, user: FakeUser, command: str) -> tuple[SentMessage, Code]:
    """Make a code with ``command``; its card and the code as stored."""
    mark = user.fake.mark()
    await say(user, command)
    card = await card_after(user, mark)
    return card, (await env.codes_of(user.chat_id))[0]


async def open_detail(user: FakeUser, customer: str) -> Edit:
    """/codes, then the code of ``customer``: the list message, edited to show its detail."""
    return await press(user, await say(user, "/codes"), customer)


async def documents_after(user: FakeUser, mark: int) -> tuple[SentMessage, SentMessage]:
    """The two documents the bot sends after ``mark``: the PDF, then the PNG."""
    pdf = await user.next_message(lambda m: m.method == "sendDocument", after=mark)
    png = await user.next_message(
        lambda m: m.method == "sendDocument" and m.seq > pdf.seq, after=mark
    )
    return pdf, png


def file_name(user: FakeUser, message: SentMessage) -> str:
    return str(user.fake.message_json(user.chat_id, message.message_id)["document"]["file_name"])


async def test_a_new_qris_is_labelled_and_prints_as_a_pdf_and_a_png(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        card, code = await new_code(env, user, "/new qris 25rb Bu Ani")

        # The photo scans to exactly Pivot's content, and carries its label below the QR.
        assert code.qr_content and card.photo is not None
        assert decode_qr(card.photo) == [code.qr_content]
        assert card.photo == render_qr_photo(code, "id")
        label = qr_label(code, "id")
        assert label.title == "Untuk: Bu Ani" and label.lines[0] == "Nominal: Rp 25.000"
        assert label.lines[2].startswith("NMID: ID") and label.banner == "SIMULASI"
        banner, _, *lines = ink_bands(greyscale_pixels(card.photo))
        assert banner[0] == 0 and len(lines) == 1 + len(label.lines)

        detail = await open_detail(user, "Bu Ani")
        mark = user.fake.mark()
        await user.press_button(detail.message_id, STICKER)
        pdf, png = await documents_after(user, mark)

        assert (file_name(user, pdf), file_name(user, png)) == (
            f"stiker-qris-{code.id}.pdf",
            f"stiker-qris-{code.id}.png",
        )
        assert pdf.text == text("id", "sticker.pdf", customer="Bu Ani")
        assert png.text == text("id", "sticker.png", customer="Bu Ani")
        assert png.document is not None and pdf.document is not None
        assert png_size(png.document) == PAGE_PIXELS
        assert decode_qr(png.document) == [code.qr_content]
        page = PdfReader(io.BytesIO(pdf.document)).pages[0]
        assert [round(float(side), 2) for side in page.mediabox[2:]] == list(A6_POINTS)
        [image] = page.images
        printed = io.BytesIO()
        image.image.save(printed, "PNG")
        assert decode_qr(printed.getvalue()) == [code.qr_content]
        assert (greyscale_pixels(printed.getvalue()) == greyscale_pixels(png.document)).all()


async def test_only_an_active_qris_offers_a_sticker(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        user = await new_seller(env)
        await new_code(env, user, "/new va bca 25000 Budi")
        assert STICKER not in buttons(await open_detail(user, "Budi"))

        _, code = await new_code(env, user, "/new qris Bu Ani")
        detail = await open_detail(user, "Bu Ani")
        assert STICKER in buttons(detail)
        # The code is deactivated after its detail was shown: the button there is stale.
        seller = await env.services.db.sellers.get(SELLER)
        assert seller is not None
        await env.services.codebook.deactivate(seller, code.id, now=utcnow())
        mark = user.fake.mark()
        await user.press_button(detail.message_id, STICKER)
        shown = await user.fake.wait_for_edit(
            SELLER, lambda edit: edit.message_id == detail.message_id, after=mark
        )
        await settle(env)

        assert (shown.text or "").startswith(text("id", "sticker.unavailable"))
        assert STICKER not in buttons(shown)
        assert not [m for m in user.messages() if m.method == "sendDocument"]
        stored = await env.services.db.codes.get(code.id)
        assert stored is not None and stored.status is CodeStatus.DEACTIVATED


async def test_another_sellers_code_gets_no_sticker(bot_home: Path | str) -> None:
    async with running_bot(bot_home) as env:
        owner = await new_seller(env)
        _, code = await new_code(env, owner, "/new qris Bu Ani")
        mallory = await new_seller(env, SELLER + 1, "Mallory")
        listing = await say(mallory, "/codes")

        query_id = await mallory.forge_press(listing.message_id, f"code:{code.id}:sticker")
        await settle(env)

        answer = next(
            a for a in env.telegram.answered_callbacks if a.callback_query_id == query_id
        )
        assert (answer.text, answer.show_alert) == (text("id", "code.not_found"), True)
        assert not env.telegram.calls_to("sendDocument")
