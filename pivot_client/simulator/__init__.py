"""A local stand-in for Pivot Payment's sandbox."""

from __future__ import annotations

from pivot_client.simulator._qris import build_static_qris, crc16_ccitt_false, parse_tlv

__all__ = ["build_static_qris", "crc16_ccitt_false", "parse_tlv"]
