"""Messages in English."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # Payment messages
    "payment.title": "💰 <b>Payment received: {amount}</b>",
    "payment.customer": "Customer: <b>{customer}</b>",
    "payment.channel": "Via: {channel}",
    "payment.time": "Time: {time}",
    "payment.running": "This code: {count} payments · total {total}",
    "payment.reference": "Ref: <code>{reference}</code>",
    "payment.flag.amount_mismatch": "⚠️ The amount differs from the expected {expected}.",
    "payment.flag.deactivated_code": "⚠️ This code was deactivated, but the payment still came in.",
    "payment.flag.late": "🕓 Late: found when checking against Pivot.",
    "payment.combined.title": "💰 <b>{count} payments received · total {total}</b>",
    "payment.combined.line": "• {time} · <b>{amount}</b> · {customer} · {channel}",
    "payment.combined.flags": "  {flags}",
    "payment.channel.qris": "QRIS",
    "payment.channel.qris_issuer": "QRIS · {issuer}",
    "payment.channel.va": "VA {bank}",
    "flag.short.amount_mismatch": "⚠️ amount differs (expected {expected})",
    "flag.short.deactivated_code": "⚠️ code deactivated",
    "flag.short.late": "🕓 late",
    # Operator alerts
    "alert.dead_letter": "🚨 A Pivot callback could not be read and was kept as dead letter #{inbox_id}: {reason}",
    "alert.unknown_session": "🚨 A payment of {amount} arrived on an unknown Pivot session ({session_id}). Recorded as charge {charge_id}.",
}
