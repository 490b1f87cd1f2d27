from __future__ import annotations

import pytest

from bot.texts import CATALOGUES, Safe, language_of, placeholders, plain, text


def test_every_language_has_the_same_keys() -> None:
    indonesian, english = CATALOGUES["id"], CATALOGUES["en"]
    assert set(indonesian) == set(english)


@pytest.mark.parametrize("key", sorted(CATALOGUES["id"]))
def test_every_message_asks_for_the_same_values_in_each_language(key: str) -> None:
    assert placeholders(CATALOGUES["id"][key]) == placeholders(CATALOGUES["en"][key])


def test_values_are_escaped_but_safe_html_is_kept() -> None:
    shown = text("en", "payment.customer", customer="<b>Budi & Sons</b>")
    assert shown == "Customer: <b>&lt;b&gt;Budi &amp; Sons&lt;/b&gt;</b>"
    assert text("en", "payment.channel", channel=Safe("<i>x</i>")) == "Via: <i>x</i>"


@pytest.mark.parametrize(
    ("code", "language"),
    [(None, "id"), ("id", "id"), ("en", "en"), ("en-GB", "en"), ("jv", "id"), ("EN", "en")],
)
def test_language_of_falls_back_to_indonesian(code: str | None, language: str) -> None:
    assert language_of(code) == language


@pytest.mark.parametrize("language", ["id", "en"])
def test_text_drawn_on_images_holds_no_html(language: str) -> None:
    drawn = {key: value for key, value in CATALOGUES[language].items() if key.startswith("image.")}

    assert drawn
    assert not [value for value in drawn.values() if "<" in value or "&" in value]


def test_plain_fills_values_in_as_they_are() -> None:
    assert plain("en", "image.customer", customer="<b>Budi & Sons") == "For: <b>Budi & Sons"
