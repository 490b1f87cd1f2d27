"""Kodebayar's storage on SQLite or PostgreSQL: schema, migrations and typed repositories.

Open with ``db = await Database.open(path_or_url)`` (or ``async with await Database.open(...)
as db:``): a ``postgresql://`` URL opens PostgreSQL, anything else is a SQLite file. Read
through ``db.sellers``, ``db.invites``, ``db.codes``, ``db.charges``, ``db.inbox``,
``db.outbox``, ``db.buyer_links``, ``db.buyers`` and ``db.bot_state``; write inside ``async
with db.write() as tx:`` through ``tx.sellers`` and the rest. Repositories return the frozen
records below, never rows. Datetimes go in and come out timezone-aware UTC; money is an int
number of rupiah.
Whoever delivers the outbox registers with ``db.add_outbox_listener``: every commit that made
messages due calls it, once. ``db.lease()`` elects the one process that talks to Telegram.
``copy_sqlite_to_postgres(source, target)`` moves every record of a SQLite database into a new,
empty PostgreSQL one.
"""

from __future__ import annotations

from ._bot_state import BotStateRepository, StoredState
from ._buyer_links import BuyerLinkRepository
from ._buyers import BuyerRepository
from ._charges import ChargeRepository
from ._codes import CodeRepository
from ._database import Database, Transaction, describe_database
from ._engine import Lease
from ._errors import (
    ConstraintError,
    DatabaseError,
    DatabaseNotEmptyError,
    DatabasePathError,
    DatabaseRefusedError,
    DatabaseTooNewError,
    DatabaseUnreachableError,
    DatabaseUrlError,
    RecordNotFoundError,
    StorageError,
)
from ._inbox import InboxRepository
from ._invites import InviteRepository
from ._models import (
    Buyer,
    BuyerLink,
    Charge,
    ChargeConfirmation,
    ChargeSource,
    Code,
    CodeKind,
    CodeStatus,
    CodeSummary,
    InboxEntry,
    InboxOutcome,
    Invite,
    InviteResult,
    NewCharge,
    NewMessage,
    OutboxMessage,
    OutboxStatus,
    Role,
    Seller,
    SellerDay,
    SellerPayment,
    SellerStatus,
)
from ._outbox import OutboxRepository
from ._postgres import is_postgres_url
from ._sellers import SellerRepository
from ._transfer import copy_sqlite_to_postgres

__all__ = [
    "BotStateRepository",
    "Buyer",
    "BuyerLink",
    "BuyerLinkRepository",
    "BuyerRepository",
    "Charge",
    "ChargeConfirmation",
    "ChargeRepository",
    "ChargeSource",
    "Code",
    "CodeKind",
    "CodeRepository",
    "CodeStatus",
    "CodeSummary",
    "ConstraintError",
    "Database",
    "DatabaseError",
    "DatabaseNotEmptyError",
    "DatabasePathError",
    "DatabaseRefusedError",
    "DatabaseTooNewError",
    "DatabaseUnreachableError",
    "DatabaseUrlError",
    "InboxEntry",
    "InboxOutcome",
    "InboxRepository",
    "Invite",
    "InviteRepository",
    "InviteResult",
    "Lease",
    "NewCharge",
    "NewMessage",
    "OutboxMessage",
    "OutboxRepository",
    "OutboxStatus",
    "RecordNotFoundError",
    "Role",
    "Seller",
    "SellerDay",
    "SellerPayment",
    "SellerRepository",
    "SellerStatus",
    "StorageError",
    "StoredState",
    "Transaction",
    "copy_sqlite_to_postgres",
    "describe_database",
    "is_postgres_url",
]
