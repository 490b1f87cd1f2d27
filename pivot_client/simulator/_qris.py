"""Static QRIS payloads: EMVCo Merchant-Presented-Mode TLV strings with their CRC.

The layout follows Pivot's static sample (``docs/pivot-api.md`` §qris): acquirer Bank Neo
Commerce, point of initiation ``11`` (static), no amount (tag 54), and a CRC-16/CCITT-FALSE in
tag 63.
"""

from __future__ import annotations

from pivot_client.qris import MERCHANT_NAME_TAG, crc16_ccitt_false

__all__ = ["SIMULATION_MERCHANT_NAME", "SIMULATION_QR_DESCRIPTOR", "build_static_qris"]

ACQUIRER_GUI = "ID.CO.BANKNEOCOMMERCE.WWW"
# Tag 59, what the payer's app shows, and the session's ``qr.merchantName``: two names, as in
# Pivot's static sample ("Pivot Pay 3" in the QR, "Pivot" in merchantName).
SIMULATION_MERCHANT_NAME = "SIMULASI KODEBAYAR"
SIMULATION_QR_DESCRIPTOR = "SIMULASI PIVOT"
_CRC_TAG = "6304"  # tag 63, length 04: the CRC covers everything up to and including this


def _tlv(tag: str, value: str, *, max_length: int = 99) -> str:
    if len(value) > max_length or not value.isascii():
        raise ValueError(f"tag {tag}: {value!r} is not ASCII of at most {max_length} characters")
    return f"{tag}{len(value):02d}{value}"


def build_static_qris(
    *,
    merchant_id: str,
    nmid: str,
    reference: str,
    merchant_name: str = SIMULATION_MERCHANT_NAME,
    city: str = "JAKARTA",
    postal_code: str = "10110",
    mcc: str = "5999",
    pan: str | None = None,
) -> str:
    """Build a static (reusable, open-amount) QRIS string.

    Args:
        merchant_id: the acquirer's merchant id (tag 26/02); Pivot returns it as ``storeId``.
        nmid: the national merchant id, ``ID`` followed by digits (tag 51/02).
        reference: a reference label carried in the additional data (tag 62/05).
        merchant_name: what the payer's app shows, at most 25 characters (tag 59).
        city: merchant city, at most 15 characters (tag 60).
        postal_code: at most 10 characters (tag 61).
        mcc: the 4-digit merchant category code (tag 52).
        pan: the merchant PAN (tag 26/01); derived from ``merchant_id`` when omitted.

    Returns:
        The payload, ending with tag 63 holding the CRC as 4 uppercase hex digits.
    """
    if not (nmid.startswith("ID") and nmid[2:].isdigit()):
        raise ValueError(f"an NMID is 'ID' followed by digits, got {nmid!r}")
    merchant_account = (
        _tlv("00", ACQUIRER_GUI)
        + _tlv("01", pan or f"936004908{merchant_id[-9:]:0>9}")
        + _tlv("02", merchant_id)
        + _tlv("03", "UMI")  # merchant criteria: micro business, like most small sellers
    )
    national_id = _tlv("00", ACQUIRER_GUI) + _tlv("02", nmid) + _tlv("03", "UMI")
    body = (
        _tlv("00", "01")
        + _tlv("01", "11")
        + _tlv("26", merchant_account)
        + _tlv("51", national_id)
        + _tlv("52", mcc, max_length=4)
        + _tlv("53", "360")
        + _tlv("58", "ID")
        + _tlv(MERCHANT_NAME_TAG, merchant_name, max_length=25)
        + _tlv("60", city, max_length=15)
        + _tlv("61", postal_code, max_length=10)
        + _tlv("62", _tlv("05", reference, max_length=25))
        + _CRC_TAG
    )
    return f"{body}{crc16_ccitt_false(body.encode('ascii')):04X}"
