"""The long-lived objects the handlers, the relay and reconciliation share."""

from __future__ import annotations

from dataclasses import dataclass

from bot.buyers import Buyers
from bot.codebook import Codebook
from bot.codes import CodeIssuer
from bot.relay import Relay
from bot.reports import Reports
from bot.sellers import Sellers
from bot.settings import Settings
from pivot_client import PivotClient
from storage import Database

__all__ = ["Services"]


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a handler may need, built once at start-up by ``bot.app``."""

    settings: Settings
    db: Database
    pivot: PivotClient
    codes: CodeIssuer
    codebook: Codebook
    reports: Reports
    relay: Relay
    sellers: Sellers
    buyers: Buyers
