"""Kodebayar: the Telegram bot that hands sellers static Pivot payment codes."""
