"""Draw docs/chat.svg from a real exchange with the bot, run against the Telegram and Pivot
stand-ins (``.venv/bin/python docs/render_chat.py``): every word in it is what the bot sent.

Two chats side by side: the seller's with the bot, and the seller's with the buyer, where the
seller typed ``@bot ani`` and picked the code the bot offered (inline mode).
"""

from __future__ import annotations

import asyncio
import base64
import html
import re
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the stand-ins live in tests/, which is not installed

from bot.texts import text  # noqa: E402
from tests.standins import (  # noqa: E402
    Edit,
    FakeUser,
    InlineAnswer,
    SentMessage,
    ViaBotMessage,
    png_size,
    running_bot,
)

OUTPUT = ROOT / "docs" / "chat.svg"
SELLER, BUYER = 2000, 3000
BUYER_NAME, QUERY = "Bu Ani", "ani"
WIDTH, MARGIN, PAD, BUBBLE_MAX = 420, 10, 10, 310
GUTTER = 16  # between the two chats
FONT, LINE, CHARS_PER_LINE = 13, 18, 38
BUTTON_H, BUTTON_FONT, GAP = 32, 12, 4
SANS = "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
MONO = "Menlo, Consolas, 'DejaVu Sans Mono', monospace"
COMMAND = re.compile(r"/[a-z]+\b")
STYLES = {"b": "b", "strong": "b", "code": "code", "pre": "code"}  # all the bot's HTML uses
ATTRIBUTES = {"": "", "b": ' font-weight="bold"', "link": ' fill="#168acd"'}
ATTRIBUTES["code"] = f' font-family="{MONO}" font-size="12"'
TITLE_BAR = (  # the wallpaper and the title bar of one chat, at x = {left}
    '<rect x="{left}" width="{width}" height="100%" fill="#c9dcb4"/>'
    '<rect x="{left}" width="{width}" height="52" fill="#517da2"/><text x="{text_x}" y="24" '
    'fill="#ffffff" font-size="15" font-weight="bold">{title}</text><text x="{text_x}" y="42" '
    'fill="#d6e4ef" font-size="12">{subtitle}</text>'
)
EDITED = 'font-size="10" fill="#8a9aa6" text-anchor="end"'
Run = tuple[str, str]  # (text, style): the style is a key of ATTRIBUTES


@dataclass
class Bubble:
    """One message as the picture shows it."""

    mine: bool  # the seller's own message, drawn on the right
    html: str
    buttons: list[list[str]] = field(default_factory=list)
    pressed: str | None = None
    photo: bytes | None = None
    edited: bool = False
    via: str | None = None  # "@bot" on a message a user posted by choosing an inline result


@dataclass
class Shared:
    """The seller's chat with the buyer: the results the bot offered and the card posted."""

    query: str
    results: list[tuple[str, str]]  # (title, description) of each result, as offered
    thumbnail: bytes | None
    posted: Bubble


class Transcript:
    """The seller's chat in order: their messages and taps, the bot's messages and edits."""

    def __init__(self, user: FakeUser) -> None:
        self.user, self.telegram = user, user.fake
        self.bubbles: list[Bubble] = []
        self.live: dict[int, Bubble] = {}  # message id -> the bubble its edits change
        self.seen = len(user.messages()), len(self.telegram.edits(user.chat_id))

    async def send(self, words: str, photo: bool = False) -> SentMessage:
        """The seller sends ``words``; the bot's answer (with ``photo``, its first photo)."""
        mark = self.telegram.mark()
        self.bubbles.append(Bubble(mine=True, html=html.escape(words, quote=False)))
        await self.user.send(words)
        answer = await self.user.next_message(lambda m: bool(m.photo) or not photo, after=mark)
        self.catch_up()
        return answer

    async def tap(self, message_id: int, label: str) -> None:
        """The seller taps a button; the bot's edit of that message becomes a new bubble."""
        bubble = self.live.pop(message_id)
        bubble.pressed = next(b for row in bubble.buttons for b in row if label in b)
        mark = self.telegram.mark()
        await self.user.press_button(message_id, label)
        await self.telegram.wait_for_edit(self.user.chat_id, after=mark)
        self.catch_up()

    def catch_up(self) -> None:
        """Take in everything the bot sent or edited since the last call, in arrival order."""
        sent = self.user.messages()[self.seen[0] :]
        edits = self.telegram.edits(self.user.chat_id)[self.seen[1] :]
        self.seen = self.seen[0] + len(sent), self.seen[1] + len(edits)
        events: list[SentMessage | Edit] = [*sent, *edits]
        for event in sorted(events, key=lambda event: event.seq):
            rows = (event.reply_markup or {}).get("inline_keyboard", [])
            buttons = [[str(button["text"]) for button in row] for row in rows]
            bubble = self.live.get(event.message_id)
            if isinstance(event, SentMessage) or bubble is None:
                photo = event.photo if isinstance(event, SentMessage) else None
                bubble = Bubble(False, event.text or "", buttons, photo=photo)
                self.bubbles.append(bubble)
            else:  # an edit changes the message in place
                bubble.html, bubble.buttons = event.text or bubble.html, buttons
            bubble.edited = bubble.edited or isinstance(event, Edit)
            self.live[event.message_id] = bubble


async def converse(workdir: Path) -> tuple[list[Bubble], Shared]:
    """Run the bot and have a seller make a QRIS code, share it in the buyer's chat, get paid
    and list their codes."""
    async with running_bot(workdir, log_level="WARNING") as env:
        mark = env.telegram.mark()
        seller = await env.invite_seller(SELLER)
        welcome = text("id", "start.joined", name=seller.first_name)
        await seller.next_message(lambda m: (m.text or "").startswith(welcome), after=mark)
        chat = Transcript(seller)
        prompt = await chat.send("/new")
        await chat.tap(prompt.message_id, "QRIS")
        await chat.send(BUYER_NAME)
        await chat.send("25rb", photo=True)
        [code] = await env.codes_of(SELLER)
        shared = await share(seller, env.user(BUYER, BUYER_NAME), str(code.id))
        mark = env.telegram.mark()
        await env.pay(code, 25_000)  # a buyer pays at the simulator; its callback reaches the bot
        await seller.next_message(after=mark, timeout=15)
        chat.catch_up()
        await chat.send("/codes")
        return chat.bubbles, shared


async def share(seller: FakeUser, buyer: FakeUser, result_id: str) -> Shared:
    """In the chat with ``buyer``, the seller types ``@bot QUERY`` and picks ``result_id``."""
    answer: InlineAnswer = await seller.fake.wait_for_inline_answer(
        await seller.inline_query(QUERY)
    )
    posted: ViaBotMessage = await seller.choose(answer, result_id, buyer)
    rows = (posted.reply_markup or {}).get("inline_keyboard", [])
    return Shared(
        query=QUERY,
        results=[(r["title"], r.get("description", "")) for r in answer.results],
        thumbnail=posted.photo,
        posted=Bubble(
            mine=True,
            html=posted.text or "",
            buttons=[[str(button["text"]) for button in row] for row in rows],
            photo=posted.photo,
            via=f"@{seller.fake.bot_username}",
        ),
    )


def lines_of(source: str) -> list[list[Run]]:
    """Telegram HTML as lines of styled runs."""
    lines: list[list[Run]] = [[]]
    styles: list[str] = []
    for piece in re.split(r"(<[^>]*>)", source):
        if tag := re.fullmatch(r"<(/?)(\w+)[^>]*>", piece):
            styles = styles[:-1] if tag[1] else [*styles, STYLES.get(tag[2].lower(), "")]
            continue
        style = next((style for style in reversed(styles) if style), "")
        for index, part in enumerate(html.unescape(piece).split("\n")):
            if index:
                lines.append([])
            lines[-1].append((part, style))
    return lines


def units(chars: str) -> int:
    """Width in character cells: emoji take two, joiners and variation selectors none."""
    total = 0
    for char, after in zip(chars, chars[1:] + " ", strict=False):  # " " pads the last char
        wide = after == "\ufe0f" or unicodedata.east_asian_width(char) in "WF"
        total += 0 if char in "\ufe0f\u200d" else 2 if wide else 1
    return total


def wrap(source: str, limit: int = CHARS_PER_LINE) -> list[list[Run]]:
    """The message's lines, wrapped greedily at ``limit`` cells; commands styled as links."""
    rows: list[list[Run]] = []
    for line in lines_of(source):
        rows.append([])
        used = 0
        for part, style in line:
            # An amount reads as one word: "Rp 25.000" is never split across two lines.
            for word in re.findall(rf"Rp \d\S*|\s+|\S{{1,{limit}}}", part):
                if used and not word.isspace() and used + units(word) > limit:
                    rows[-1][-1] = (rows[-1][-1][0].rstrip(), rows[-1][-1][1])
                    rows.append([])
                    used = 0
                row = rows[-1]
                shown = "link" if not style and COMMAND.fullmatch(word) else style
                # A space joins the run before it (fewer tspans) unless that run is monospace.
                if row and (row[-1][1] == shown or (word.isspace() and row[-1][1] != "code")):
                    row[-1] = (row[-1][0] + word, row[-1][1])
                else:
                    row.append((word, shown))
                used += units(word)
    return rows


def fit(label: str, room: float) -> str:
    """A button label cut with an ellipsis, as Telegram does, when it is wider than ``room``."""
    cells = int((room - 2 * PAD) / (BUTTON_FONT * 0.6))
    return label if units(label) <= cells else label[: cells - 1].rstrip() + "…"


def draw(bubble: Bubble, top: int, left: int = 0) -> tuple[list[str], int]:
    """SVG elements for ``bubble`` with its top at ``top`` in the chat at ``left``; the y below
    it."""
    lines = wrap(bubble.html)
    if bubble.via:  # Telegram's header over a message posted through an inline bot
        lines.insert(0, [(f"via {bubble.via}", "link")])
    # Bold glyphs are wider; the estimate only sizes short bubbles, long lines wrap at 38 cells.
    widest = max(sum(units(w) * (0.64 if s == "b" else 0.58) for w, s in line) for line in lines)
    full = bubble.photo is not None or bool(bubble.buttons)
    width = BUBBLE_MAX if full else min(BUBBLE_MAX, int(widest * FONT) + 2 * PAD + 4)
    x = left + (WIDTH - MARGIN - width if bubble.mine else MARGIN)
    if bubble.photo:  # as tall as the photo's own shape: the QR with its label below
        shape = png_size(bubble.photo)
        photo = round((width - 12) * shape[1] / shape[0]) + 12
    else:
        photo = 0
    height = photo + len(lines) * LINE + 2 * PAD + (12 if bubble.edited else 0)
    fill = "#effdde" if bubble.mine else "#ffffff"
    parts = [f'<rect x="{x}" y="{top}" width="{width}" height="{height}" rx="12" fill="{fill}"/>']
    above = LINE if bubble.via else 0  # the via line goes over the photo
    if bubble.photo:  # inset, so its square corners stay inside the rounded bubble
        parts.append(image(bubble.photo, x + 6, top + 6 + above, width - 12, photo - 12))
    for row, line in enumerate(lines, start=1):
        body = "".join(f"<tspan{ATTRIBUTES[s]}>{html.escape(w)}</tspan>" for w, s in line if w)
        y = top + (photo if row > 1 or not above else 0) + PAD + row * LINE - 5
        parts.append(f'<text x="{x + PAD}" y="{y}" xml:space="preserve">{body}</text>')
    if bubble.edited:  # as Telegram marks an edited message
        parts.append(f'<text x="{x + width - PAD}" y="{top + height - 7}" {EDITED}>diedit</text>')
    bottom = top + height
    for buttons in bubble.buttons:
        cell = (width - GAP * (len(buttons) - 1)) / len(buttons)
        for column, label in enumerate(buttons):
            at = x + column * (cell + GAP)
            pressed = label == bubble.pressed  # outlined and darker, to show the seller's tap
            look = '0.75" stroke="#ffffff" stroke-width="2' if pressed else "0.35"
            parts.append(
                f'<rect x="{at:.1f}" y="{bottom + GAP}" width="{cell:.1f}" height="{BUTTON_H}" '
                f'rx="8" fill="#2f5d7c" fill-opacity="{look}"/>'
                f'<text x="{at + cell / 2:.1f}" y="{bottom + GAP + 21}" fill="#ffffff" '
                f'font-size="{BUTTON_FONT}" font-weight="bold" text-anchor="middle">'
                f"{html.escape(fit(label, cell))}</text>"
            )
        bottom += GAP + BUTTON_H
    return parts, bottom + 8


def image(png: bytes, x: int, y: int, width: int, height: int | None = None) -> str:
    """A PNG drawn at (``x``, ``y``), ``width`` wide and ``height`` tall (square by default)."""
    source = f"data:image/png;base64,{base64.b64encode(png).decode()}"
    tall = width if height is None else height
    return f'<image x="{x}" y="{y}" width="{width}" height="{tall}" href="{source}"/>'


def title_bar(left: int, title: str, subtitle: str) -> str:
    """A chat's wallpaper and title bar at ``left``."""
    return TITLE_BAR.format(
        left=left, width=WIDTH, text_x=left + 20, title=html.escape(title), subtitle=subtitle
    )


def draw_inline(shared: Shared, left: int, bottom: int) -> list[str]:
    """The results panel over the message field, as the seller saw it, ending at ``bottom``."""
    row_h, field_h = 48, 44
    top = bottom - field_h - row_h * len(shared.results)
    parts = [
        f'<rect x="{left}" y="{top}" width="{WIDTH}" height="{bottom - top}" fill="#ffffff"/>'
    ]
    for index, (title, description) in enumerate(shared.results):
        y = top + index * row_h
        if shared.thumbnail:
            parts.append(image(shared.thumbnail, left + 12, y + 6, row_h - 12))
        parts.append(
            f'<text x="{left + row_h + 8}" y="{y + 20}" font-weight="bold">{html.escape(title)}'
            f'</text><text x="{left + row_h + 8}" y="{y + 38}" fill="#8a9aa6">'
            f"{html.escape(description)}</text>"
        )
    field = top + row_h * len(shared.results)
    parts.append(
        f'<line x1="{left}" y1="{field}" x2="{left + WIDTH}" y2="{field}" stroke="#dfe5ea"/>'
        f'<text x="{left + 14}" y="{field + 27}" xml:space="preserve"><tspan{ATTRIBUTES["link"]}>'
        f"{html.escape(shared.posted.via or '')}</tspan> {html.escape(shared.query)}"
        "</text>"
    )
    return parts


def render(bubbles: list[Bubble], shared: Shared) -> str:
    """Both chats side by side as a self-contained SVG."""
    body: list[str] = []
    y = 64  # below the title bar
    for bubble in bubbles:
        parts, y = draw(bubble, y)
        body.extend(parts)
    right = WIDTH + GUTTER
    posted, below = draw(shared.posted, 64, right)
    height = max(y + 4, below + 200)
    total = WIDTH * 2 + GUTTER
    size = f'width="{total}" height="{height}" viewBox="0 0 {total} {height}"'
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} font-family="{SANS}" font-size="{FONT}">'
    )
    chrome = [
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        title_bar(0, "Kodebayar", "bot"),
        title_bar(right, BUYER_NAME, "pembeli"),
    ]
    inline = draw_inline(shared, right, height)
    return "\n".join([head, *chrome, *body, *posted, *inline, "</svg>\n"])


def main() -> None:
    """Run the exchange, draw it, check that the SVG parses and write it."""
    with tempfile.TemporaryDirectory() as workdir:
        bubbles, shared = asyncio.run(converse(Path(workdir)))
    svg = render(bubbles, shared)
    ElementTree.fromstring(svg)  # noqa: S314 (our own text) raises if it is not well-formed
    OUTPUT.write_text(svg, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(bubbles) + 1} bubbles, {len(svg)} bytes)")


if __name__ == "__main__":
    main()
