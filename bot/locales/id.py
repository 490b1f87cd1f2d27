"""Pesan dalam Bahasa Indonesia (bahasa bawaan)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # Payment messages
    "payment.title": "💰 <b>Pembayaran masuk: {amount}</b>",
    "payment.customer": "Pelanggan: <b>{customer}</b>",
    "payment.channel": "Lewat: {channel}",
    "payment.time": "Waktu: {time}",
    "payment.running": "Kode ini: {count} pembayaran · total {total}",
    "payment.reference": "Ref: <code>{reference}</code>",
    "payment.flag.amount_mismatch": "⚠️ Nominal berbeda dari yang diharapkan ({expected}).",
    "payment.flag.deactivated_code": "⚠️ Kode ini sudah dinonaktifkan, tetapi pembayaran tetap masuk.",
    "payment.flag.late": "🕓 Terlambat: ditemukan saat pencocokan dengan Pivot.",
    "payment.combined.title": "💰 <b>{count} pembayaran masuk · total {total}</b>",
    "payment.combined.line": "• {time} · <b>{amount}</b> · {customer} · {channel}",
    "payment.combined.flags": "  {flags}",
    "payment.channel.qris": "QRIS",
    "payment.channel.qris_issuer": "QRIS · {issuer}",
    "payment.channel.va": "VA {bank}",
    "flag.short.amount_mismatch": "⚠️ nominal beda (harusnya {expected})",
    "flag.short.deactivated_code": "⚠️ kode nonaktif",
    "flag.short.late": "🕓 terlambat",
    # Operator alerts
    "alert.dead_letter": "🚨 Callback Pivot tidak bisa dibaca dan disimpan sebagai dead letter #{inbox_id}: {reason}",
    "alert.unknown_session": "🚨 Pembayaran {amount} masuk ke sesi Pivot yang tidak dikenal ({session_id}). Sudah dicatat, charge {charge_id}.",
}
