"""Kodebayar: the Telegram bot that hands sellers static Pivot payment codes."""

import os

# python-telegram-bot 22 warns on every time period it hands out as an int (RetryAfter among
# them) unless the process opts in to the timedelta the next major version will return.
os.environ.setdefault("PTB_TIMEDELTA", "true")
