"""Reading QRIS payloads: EMVCo Merchant-Presented-Mode records and their CRC.

A QRIS string (Pivot's ``qrContent``) is a run of ``tag (2 digits) + length (2 digits) +
value`` records, some nesting more records, ending with a CRC-16/CCITT-FALSE in tag 63.
"""

from __future__ import annotations

import re

__all__ = [
    "MERCHANT_NAME_TAG",
    "NMID_TAG",
    "crc16_ccitt_false",
    "merchant_name",
    "nmid",
    "parse_tlv",
]

# What the payer's app shows as the merchant. Pivot's ``qr.merchantName`` is another name (the
# "QR descriptor"): its static sample says "Pivot" where tag 59 says "Pivot Pay 3".
MERCHANT_NAME_TAG = "59"
# The National Merchant ID: sub-tag 02 of tag 51, the merchant account record QRIS keeps for its
# national repository (tags 26-45 are each acquirer's own records, their 02 the acquirer's
# merchant id: Pivot's ``storeId``). Pivot's static sample has ``ID2025428865120`` there.
NMID_TAG = "51"
_NMID_SUBTAG = "02"
_NMID_SHAPE = re.compile(r"ID\d{1,20}")  # "ID" and digits (15 characters in Pivot's samples)


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def parse_tlv(payload: str) -> dict[str, str]:
    """Split one level of ``tag + 2-digit length + value`` records into a dict."""
    records: dict[str, str] = {}
    position = 0
    while position < len(payload):
        header = payload[position : position + 4]
        if len(header) < 4 or not (header.isascii() and header.isdigit()):
            raise ValueError(f"malformed TLV header {header!r} at {position}")
        end = position + 4 + int(header[2:])
        if end > len(payload):
            raise ValueError(f"tag {header[:2]} runs past the end of the payload")
        records[header[:2]] = payload[position + 4 : end]
        position = end
    return records


def merchant_name(payload: str) -> str | None:
    """The merchant name a payer's app shows (tag 59), or None when there is none to read."""
    try:
        name = parse_tlv(payload).get(MERCHANT_NAME_TAG, "").strip()
    except ValueError:
        return None
    return name or None


def nmid(payload: str) -> str | None:
    """The National Merchant ID (tag 51, sub-tag 02), or None when there is none to read."""
    try:
        account = parse_tlv(parse_tlv(payload).get(NMID_TAG, ""))
    except ValueError:
        return None
    value = account.get(_NMID_SUBTAG, "")
    return value if _NMID_SHAPE.fullmatch(value) else None
