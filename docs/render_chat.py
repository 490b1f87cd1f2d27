"""Draw docs/chat.svg from a real exchange with the bot, run against the Telegram and Pivot
stand-ins (``.venv/bin/python docs/render_chat.py``): every word in it is what the bot sent.
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
from tests.standins import Edit, FakeUser, SentMessage, png_size, running_bot  # noqa: E402

OUTPUT = ROOT / "docs" / "chat.svg"
SELLER = 2000
WIDTH, MARGIN, PAD, BUBBLE_MAX = 420, 10, 10, 310
FONT, LINE, CHARS_PER_LINE = 13, 18, 38
BUTTON_H, BUTTON_FONT, GAP = 32, 12, 4
SANS = "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
MONO = "Menlo, Consolas, 'DejaVu Sans Mono', monospace"
COMMAND = re.compile(r"/[a-z]+\b")
STYLES = {"b": "b", "strong": "b", "code": "code", "pre": "code"}  # all the bot's HTML uses
ATTRIBUTES = {"": "", "b": ' font-weight="bold"', "link": ' fill="#168acd"'}
ATTRIBUTES["code"] = f' font-family="{MONO}" font-size="12"'
CHROME = (  # the wallpaper and the title bar
    '<rect width="100%" height="100%" fill="#c9dcb4"/>'
    f'<rect width="{WIDTH}" height="52" fill="#517da2"/><text x="20" y="24" fill="#ffffff" '
    'font-size="15" font-weight="bold">Kodebayar</text><text x="20" y="42" fill="#d6e4ef" '
    'font-size="12">bot</text>'
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


async def converse(workdir: Path) -> list[Bubble]:
    """Run the bot and have a seller make a QRIS code, get paid and list their codes."""
    async with running_bot(workdir, log_level="WARNING") as env:
        mark = env.telegram.mark()
        seller = await env.invite_seller(SELLER)
        welcome = text("id", "start.joined", name=seller.first_name)
        await seller.next_message(lambda m: (m.text or "").startswith(welcome), after=mark)
        chat = Transcript(seller)
        prompt = await chat.send("/new")
        await chat.tap(prompt.message_id, "QRIS")
        await chat.send("Bu Ani")
        await chat.send("25rb", photo=True)
        [code] = await env.codes_of(SELLER)
        mark = env.telegram.mark()
        await env.pay(code, 25_000)  # a buyer pays at the simulator; its callback reaches the bot
        await seller.next_message(after=mark, timeout=15)
        chat.catch_up()
        await chat.send("/codes")
        return chat.bubbles


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


def draw(bubble: Bubble, top: int) -> tuple[list[str], int]:
    """SVG elements for ``bubble`` with its top at ``top``; the y below it."""
    lines = wrap(bubble.html)
    # Bold glyphs are wider; the estimate only sizes short bubbles, long lines wrap at 38 cells.
    widest = max(sum(units(w) * (0.64 if s == "b" else 0.58) for w, s in line) for line in lines)
    full = bubble.photo is not None or bool(bubble.buttons)
    width = BUBBLE_MAX if full else min(BUBBLE_MAX, int(widest * FONT) + 2 * PAD + 4)
    x = WIDTH - MARGIN - width if bubble.mine else MARGIN
    if bubble.photo:  # as tall as the photo's own shape: the QR with its label below
        shape = png_size(bubble.photo)
        photo = round((width - 12) * shape[1] / shape[0]) + 12
    else:
        photo = 0
    height = photo + len(lines) * LINE + 2 * PAD + (12 if bubble.edited else 0)
    fill = "#effdde" if bubble.mine else "#ffffff"
    parts = [f'<rect x="{x}" y="{top}" width="{width}" height="{height}" rx="12" fill="{fill}"/>']
    if bubble.photo:  # inset, so its square corners stay inside the rounded bubble
        data = base64.b64encode(bubble.photo).decode()
        src = f'x="{x + 6}" y="{top + 6}" href="data:image/png;base64,{data}"'
        parts.append(f'<image {src} width="{width - 12}" height="{photo - 12}"/>')
    for row, line in enumerate(lines, start=1):
        body = "".join(f"<tspan{ATTRIBUTES[s]}>{html.escape(w)}</tspan>" for w, s in line if w)
        y = top + photo + PAD + row * LINE - 5
        parts.append(f'<text x="{x + PAD}" y="{y}" xml:space="preserve">{body}</text>')
    if bubble.edited:  # as Telegram marks an edited message
        parts.append(f'<text x="{x + width - PAD}" y="{top + height - 7}" {EDITED}>diedit</text>')
    bottom = top + height
    for buttons in bubble.buttons:
        cell = (width - GAP * (len(buttons) - 1)) / len(buttons)
        for column, label in enumerate(buttons):
            left = x + column * (cell + GAP)
            pressed = label == bubble.pressed  # outlined and darker, to show the seller's tap
            look = '0.75" stroke="#ffffff" stroke-width="2' if pressed else "0.35"
            parts.append(
                f'<rect x="{left:.1f}" y="{bottom + GAP}" width="{cell:.1f}" height="{BUTTON_H}" '
                f'rx="8" fill="#2f5d7c" fill-opacity="{look}"/>'
                f'<text x="{left + cell / 2:.1f}" y="{bottom + GAP + 21}" fill="#ffffff" '
                f'font-size="{BUTTON_FONT}" font-weight="bold" text-anchor="middle">'
                f"{html.escape(fit(label, cell))}</text>"
            )
        bottom += GAP + BUTTON_H
    return parts, bottom + 8


def render(bubbles: list[Bubble]) -> str:
    """The whole chat as a self-contained SVG."""
    body: list[str] = []
    y = 64  # below the title bar
    for bubble in bubbles:
        parts, y = draw(bubble, y)
        body.extend(parts)
    size = f'width="{WIDTH}" height="{y + 4}" viewBox="0 0 {WIDTH} {y + 4}"'
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} font-family="{SANS}" font-size="{FONT}">'
    )
    return "\n".join([head, CHROME, *body, "</svg>\n"])


def main() -> None:
    """Run the exchange, draw it, check that the SVG parses and write it."""
    with tempfile.TemporaryDirectory() as workdir:
        bubbles = asyncio.run(converse(Path(workdir)))
    svg = render(bubbles)
    ElementTree.fromstring(svg)  # noqa: S314 (our own text) raises if it is not well-formed
    OUTPUT.write_text(svg, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(bubbles)} bubbles, {len(svg)} bytes)")


if __name__ == "__main__":
    main()
