from __future__ import annotations

import pytest

from pivot_client.qris import crc16_ccitt_false, merchant_name, nmid, parse_tlv
from pivot_client.simulator import build_static_qris


def _build(merchant_id: str = "000560139907", reference: str = "ref0001") -> str:
    return build_static_qris(merchant_id=merchant_id, nmid="ID2025428865120", reference=reference)


def test_crc_matches_the_catalogue_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1


def test_static_code_parses_with_a_correct_crc() -> None:
    content = _build()
    tags = parse_tlv(content)

    assert list(tags)[-1] == "63"
    assert content.endswith("6304" + tags["63"])
    assert tags["63"] == f"{crc16_ccitt_false(content[:-4].encode()):04X}"
    assert tags["00"] == "01"
    assert tags["01"] == "11"
    assert "54" not in tags
    assert tags["53"] == "360"
    assert tags["58"] == "ID"
    assert "SIMULASI" in tags["59"]
    assert len(tags["59"]) <= 25


def test_merchant_account_and_nmid_are_nested_records() -> None:
    tags = parse_tlv(_build())

    account = parse_tlv(tags["26"])
    assert account["00"] == "ID.CO.BANKNEOCOMMERCE.WWW"
    assert account["02"] == "000560139907"
    assert account["01"].isdigit()
    assert parse_tlv(tags["51"])["02"] == "ID2025428865120"
    assert parse_tlv(tags["62"])["05"] == "ref0001"


def test_a_changed_character_breaks_the_crc() -> None:
    content = _build()
    tampered = content.replace("JAKARTA", "JAKARTO")

    assert tampered[-4:] != f"{crc16_ccitt_false(tampered[:-4].encode()):04X}"


def test_two_sessions_get_different_contents() -> None:
    first = _build(merchant_id="000000000001", reference="a1")
    second = _build(merchant_id="000000000002", reference="a2")

    assert first != second


@pytest.mark.parametrize("payload", ["0002", "00020", "0099abc", "ab0201"])
def test_malformed_tlv_is_rejected(payload: str) -> None:
    with pytest.raises(ValueError, match=r"TLV|past the end"):
        parse_tlv(payload)


def test_too_long_merchant_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="tag 59"):
        build_static_qris(
            merchant_id="1", nmid="ID1", reference="r", merchant_name="SIMULASI " + "X" * 20
        )


def test_merchant_name_is_tag_59() -> None:
    content = build_static_qris(
        merchant_id="1", nmid="ID1", reference="r", merchant_name="Pivot Pay 3"
    )

    assert merchant_name(content) == "Pivot Pay 3"


@pytest.mark.parametrize("payload", ["", "5802ID", "0002", "5900"])
def test_merchant_name_is_none_when_it_cannot_be_read(payload: str) -> None:
    assert merchant_name(payload) is None


def test_nmid_is_sub_tag_02_of_tag_51_not_the_acquirers_merchant_id() -> None:
    content = _build(merchant_id="000560139907")

    assert nmid(content) == "ID2025428865120"


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


# Tag 51 under QRIS's own GUI, as on real stickers (and in tests/bot/test_qr.py's vector).
NATIONAL = _tlv("51", _tlv("00", "ID.CO.QRIS.WWW") + _tlv("02", "ID2025428865120"))


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "5802ID",
        "0002",
        _tlv("51", ""),
        _tlv("51", _tlv("00", "ID.CO.QRIS.WWW")),  # no sub-tag 02
        _tlv("51", _tlv("02", "ID")),  # no digits
        _tlv("51", _tlv("02", "000560139907")),  # an acquirer's merchant id, not an NMID
        _tlv("51", _tlv("02", "ID20254288X5120")),  # a stray letter among the digits
        _tlv("26", _tlv("02", "ID2025428865120")),  # an acquirer's record, not tag 51
        NATIONAL[:-3],  # tag 51 cut short
    ],
)
def test_nmid_is_none_when_it_cannot_be_read(payload: str) -> None:
    assert nmid(payload) is None


def test_nmid_under_qris_own_gui() -> None:
    assert nmid(NATIONAL + "5802ID") == "ID2025428865120"
