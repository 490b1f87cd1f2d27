"""SQLite's schema, as ordered migration scripts: version N is ``MIGRATIONS[N - 1]``.

A database records the last version applied in ``PRAGMA user_version``. Scripts are only ever
appended: a released one is never edited, because databases in the field already ran it.
Datetimes are INTEGER microseconds since the Unix epoch (UTC), so ranges and ORDER BY use the
indexes; charge flags are sorted comma-separated text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import DatabaseError, DatabaseTooNewError

if TYPE_CHECKING:
    from ._sqlite import SqliteSql

__all__ = ["MIGRATIONS", "apply_migrations"]

_V1_INITIAL = """
CREATE TABLE sellers (
    telegram_id INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    username    TEXT,
    language    TEXT    NOT NULL,
    timezone    TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('seller', 'operator')),
    status      TEXT    NOT NULL CHECK (status IN ('active', 'suspended', 'blocked')),
    invited_by  INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX sellers_by_created ON sellers (created_at);
CREATE INDEX sellers_active_operators ON sellers (telegram_id)
    WHERE role = 'operator' AND status = 'active';

CREATE TABLE invites (
    token      TEXT    PRIMARY KEY,
    created_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by    INTEGER,
    used_at    INTEGER
);

CREATE TABLE codes (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    seller_id           INTEGER NOT NULL REFERENCES sellers (telegram_id),
    kind                TEXT    NOT NULL CHECK (kind IN ('QRIS', 'VA')),
    bank                TEXT,
    va_suffix           INTEGER,
    customer            TEXT    NOT NULL,
    amount              INTEGER CHECK (amount IS NULL OR amount > 0),
    request_key         TEXT    NOT NULL,
    client_reference_id TEXT    NOT NULL UNIQUE,
    pivot_session_id    TEXT,
    qr_content          TEXT,
    va_number           TEXT,
    merchant_name       TEXT,
    simulation          INTEGER NOT NULL DEFAULT 0 CHECK (simulation IN (0, 1)),
    status              TEXT    NOT NULL
        CHECK (status IN ('pending', 'active', 'failed', 'deactivated')),
    failure             TEXT,
    created_at          INTEGER NOT NULL,
    deactivated_at      INTEGER,
    last_payment_at     INTEGER
);
CREATE INDEX codes_by_seller ON codes (seller_id, id DESC);
CREATE INDEX codes_by_request_key ON codes (request_key);
CREATE INDEX codes_by_session ON codes (pivot_session_id);
-- A suffix names one VA number for ever: never reused, not even after a failed create.
CREATE UNIQUE INDEX codes_va_suffix ON codes (bank, va_suffix) WHERE va_suffix IS NOT NULL;
CREATE INDEX codes_active_by_id ON codes (id) WHERE status = 'active';
CREATE INDEX codes_active_by_payment ON codes (last_payment_at DESC, id DESC)
    WHERE status = 'active';

CREATE TABLE charges (
    id                  INTEGER PRIMARY KEY,
    pivot_charge_id     TEXT    NOT NULL UNIQUE,
    code_id             INTEGER REFERENCES codes (id),
    seller_id           INTEGER REFERENCES sellers (telegram_id),
    session_id          TEXT    NOT NULL,
    client_reference_id TEXT,
    amount              INTEGER NOT NULL,
    paid_at             INTEGER NOT NULL,
    channel             TEXT,
    issuer              TEXT,
    reference           TEXT,
    source              TEXT    NOT NULL CHECK (source IN ('callback', 'reconciliation')),
    flags               TEXT    NOT NULL DEFAULT '',
    recorded_at         INTEGER NOT NULL
);
-- amount rides along so a code's count and total are read from the index alone.
CREATE INDEX charges_by_code ON charges (code_id, paid_at DESC, id DESC, amount);
CREATE INDEX charges_by_seller ON charges (seller_id, paid_at);

CREATE TABLE callback_inbox (
    id          INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    body        BLOB    NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN (
        'received', 'recorded', 'duplicate', 'ignored', 'dead_letter', 'unknown_session')),
    detail      TEXT
);
CREATE INDEX callback_inbox_by_outcome ON callback_inbox (outcome);
CREATE INDEX callback_inbox_by_received ON callback_inbox (received_at);

CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY,
    dedupe_key          TEXT    NOT NULL UNIQUE,
    chat_id             INTEGER NOT NULL,
    kind                TEXT    NOT NULL,
    payload             TEXT    NOT NULL,
    status              TEXT    NOT NULL
        CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    last_error          TEXT,
    telegram_message_id INTEGER,
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
"""

# codes_va_suffix above: a code Pivot surely made nothing with gives its suffix back (its
# va_suffix becomes NULL, ``CodeRepository.mark_failed``), so "never reused" now reads "never
# held by two codes at once", which is what the index guarantees.

# A chat that refuses the bot (blocked, deactivated) keeps its messages HELD until the person
# writes again; the CHECK constraint can only change by rebuilding the table.
_V2_HELD_MESSAGES = """
CREATE TABLE outbox_v2 (
    id                  INTEGER PRIMARY KEY,
    dedupe_key          TEXT    NOT NULL UNIQUE,
    chat_id             INTEGER NOT NULL,
    kind                TEXT    NOT NULL,
    payload             TEXT    NOT NULL,
    status              TEXT    NOT NULL
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'held')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    last_error          TEXT,
    telegram_message_id INTEGER,
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER
);
INSERT INTO outbox_v2 SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_held ON outbox (chat_id) WHERE status = 'held';
"""

# Where reconciliation's sweep over every code has got to, so that a restart resumes there:
# restarting at the first code would leave the last ones unchecked for as long as restarts
# come more often than a whole round.
_V3_SWEEP_CURSOR = """
CREATE TABLE reconcile_cursor (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    code_id INTEGER NOT NULL
);
"""

# A closed static VA stops taking payments at Pivot 30 days after it is made; the date comes
# from Pivot's session. Codes made before this version get that rule from their creation, and
# those already past it count as warned: an upgrade sends no warning for every old code.
_V4_CODE_EXPIRY = """
ALTER TABLE codes ADD COLUMN expires_at INTEGER;
ALTER TABLE codes ADD COLUMN expiry_warned_at INTEGER;
UPDATE codes SET expires_at = created_at + 30 * 86400 * 1000000
    WHERE kind = 'VA' AND amount IS NOT NULL AND pivot_session_id IS NOT NULL;
UPDATE codes SET expiry_warned_at = expires_at
    WHERE expires_at <= CAST(strftime('%s', 'now') AS INTEGER) * 1000000;
CREATE INDEX codes_expiry_due ON codes (expires_at)
    WHERE status = 'active' AND expires_at IS NOT NULL AND expiry_warned_at IS NULL;
"""

# A callback is evidence, not proof (docs/money.md rule 6): each charge says whether Pivot's API
# confirmed it. Charges recorded before this version were announced under the old rules and
# count as confirmed; the partial index finds the few still waiting.
_V5_CHARGE_CONFIRMATION = """
ALTER TABLE charges ADD COLUMN confirmation TEXT NOT NULL DEFAULT 'confirmed'
    CHECK (confirmation IN ('pending', 'confirmed', 'unknown', 'mismatch'));
ALTER TABLE charges ADD COLUMN confirmed_at INTEGER;
CREATE INDEX charges_awaiting_confirmation ON charges (id) WHERE confirmation = 'pending';
"""

# The Telegram file id of a QRIS code's QR photo, kept from the first time its card was sent:
# a code shared from an inline query can only name a photo Telegram already has (an inline
# answer carries no upload, and the bot has no public URL to point at).
_V6_CODE_PHOTO = """
ALTER TABLE codes ADD COLUMN photo_file_id TEXT;
"""

# A code shown to buyers through a link (docs/buyers.md). A token names one link for good; a
# code has one live link at most, and a revoked one stays so that opening it says so. A buyer
# is one person for one code, kept with the link they opened: receipts follow live links only.
# A seller's shop name is what buyers see of them.
_V7_BUYERS = """
CREATE TABLE buyer_links (
    id         INTEGER PRIMARY KEY,
    token      TEXT    NOT NULL UNIQUE,
    code_id    INTEGER NOT NULL REFERENCES codes (id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE UNIQUE INDEX buyer_links_live ON buyer_links (code_id) WHERE revoked_at IS NULL;

CREATE TABLE buyers (
    telegram_id INTEGER NOT NULL,
    code_id     INTEGER NOT NULL REFERENCES codes (id),
    link_id     INTEGER NOT NULL REFERENCES buyer_links (id),
    chat_id     INTEGER NOT NULL,
    language    TEXT    NOT NULL,
    first_seen  INTEGER NOT NULL,
    PRIMARY KEY (telegram_id, code_id)
);
CREATE INDEX buyers_by_code ON buyers (code_id);
CREATE INDEX buyers_by_link ON buyers (link_id);

ALTER TABLE codes ADD COLUMN receipts INTEGER NOT NULL DEFAULT 0 CHECK (receipts IN (0, 1));
ALTER TABLE sellers ADD COLUMN shop_name TEXT;
"""

# A buyer's receipt must not go out before Pivot's API confirms its charge, however long that
# takes, nor ever for a charge Pivot refutes: it waits AWAITING, naming the charge, where no
# claim, hold or release of a chat touches it; outbox_due's status prefix finds the few that
# wait. The CHECK constraint changes only by a rebuild.
_V8_AWAITING_MESSAGES = """
CREATE TABLE outbox_v8 (
    id                  INTEGER PRIMARY KEY,
    dedupe_key          TEXT    NOT NULL UNIQUE,
    chat_id             INTEGER NOT NULL,
    kind                TEXT    NOT NULL,
    payload             TEXT    NOT NULL,
    status              TEXT    NOT NULL
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'held', 'awaiting')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    last_error          TEXT,
    telegram_message_id INTEGER,
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER,
    awaiting_charge     TEXT
);
INSERT INTO outbox_v8 (
    id, dedupe_key, chat_id, kind, payload, status, attempts, next_attempt_at, last_error,
    telegram_message_id, created_at, sent_at
)
SELECT
    id, dedupe_key, chat_id, kind, payload, status, attempts, next_attempt_at, last_error,
    telegram_message_id, created_at, sent_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v8 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_held ON outbox (chat_id) WHERE status = 'held';
"""

# What the Telegram side keeps between updates (bot.persistence): a person's answers so far
# and where each conversation stands, so that another process can take the conversation up.
_V9_BOT_STATE = """
CREATE TABLE bot_state (
    kind       TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
);
"""


MIGRATIONS: list[str] = [
    _V1_INITIAL,
    _V2_HELD_MESSAGES,
    _V3_SWEEP_CURSOR,
    _V4_CODE_EXPIRY,
    _V5_CHARGE_CONFIRMATION,
    _V6_CODE_PHOTO,
    _V7_BUYERS,
    _V8_AWAITING_MESSAGES,
    _V9_BOT_STATE,
]


async def apply_migrations(sql: SqliteSql) -> int:
    """Bring the database up to the newest migration, one transaction each; return the version.

    Call it before foreign keys are switched on: a migration may rebuild a table (SQLite's
    twelve-step ALTER), and ``PRAGMA foreign_key_check`` vouches for the result instead.
    """
    version = await sql.integer("PRAGMA user_version")
    if version > len(MIGRATIONS):
        raise DatabaseTooNewError(version, len(MIGRATIONS))
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        try:
            # BEGIN inside the script: executescript commits any transaction opened before it.
            await sql.script(f"BEGIN IMMEDIATE;\n{script};")
            broken = await sql.rows("PRAGMA foreign_key_check")
            if broken:
                raise DatabaseError(
                    f"migration {number} would leave {len(broken)} dangling foreign key(s)"
                )
            await sql.rows(f"PRAGMA user_version = {number}")
            await sql.commit()
        except BaseException:
            await sql.rollback()
            raise
    return len(MIGRATIONS)
