"""Exceptions raised by storage.

The hierarchy::

    StorageError                   base of everything storage raises on purpose
    ├── DatabaseTooNewError        the schema is newer than this Kodebayar knows
    ├── DatabasePathError          the path cannot hold the database: a folder, under a file,
    │                              or in a folder this user cannot create or write
    ├── DatabaseUrlError           the PostgreSQL URL names no database we can use
    ├── RecordNotFoundError        a write named a row that does not exist (or is in no state
    │                              to take that write)
    └── DatabaseError              the engine failed: locked, read-only, disk full, closed,
        │                          connection lost... (also a ``sqlite3.Error``); the
        │                          driver's exception is ``__cause__``
        ├── ConstraintError        a UNIQUE, FOREIGN KEY or CHECK constraint refused a write
        │                          (also a ``sqlite3.IntegrityError``)
        ├── DatabaseRefusedError   PostgreSQL refused the connection: password, user, database
        └── DatabaseUnreachableError  PostgreSQL did not answer; worth trying again later

Every ``sqlite3`` or ``asyncpg`` error raised inside storage, on a read or in a write
transaction, is wrapped in ``DatabaseError`` or one of its subclasses. They also subclass the
``sqlite3`` class they replace, so a caller written for SQLite may catch either family. Messages
are one line and never carry a password. A naive datetime is refused with ``ValueError``.
"""

from __future__ import annotations

import sqlite3

__all__ = [
    "ConstraintError",
    "DatabaseError",
    "DatabaseNotEmptyError",
    "DatabasePathError",
    "DatabaseRefusedError",
    "DatabaseTooNewError",
    "DatabaseUnreachableError",
    "DatabaseUrlError",
    "RecordNotFoundError",
    "StorageError",
    "wrap_sqlite_error",
]


class StorageError(Exception):
    """Base class of the errors storage raises."""


class DatabaseTooNewError(StorageError):
    """The database was written by a newer Kodebayar; this one must not touch it."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"database schema version {found} is newer than this Kodebayar "
            f"(knows up to {known}); upgrade Kodebayar or restore a backup"
        )
        self.found = found
        self.known = known


class DatabaseNotEmptyError(StorageError):
    """A database to copy into already holds records; nothing was changed."""


class DatabasePathError(StorageError):
    """The database path cannot hold a database file; the message says why, in one line."""


class DatabaseUrlError(StorageError):
    """``DATABASE_URL`` is not a PostgreSQL URL we can use; the message says why, in one line."""


class RecordNotFoundError(StorageError):
    """A write named a row that does not exist or cannot take that write."""


class DatabaseError(StorageError, sqlite3.Error):
    """The engine failed; the driver's exception is the ``__cause__``."""


class ConstraintError(DatabaseError, sqlite3.IntegrityError):
    """A UNIQUE, FOREIGN KEY or CHECK constraint refused a write."""


class DatabaseRefusedError(DatabaseError):
    """PostgreSQL refused us: a wrong password, an unknown user or database, no permission."""


class DatabaseUnreachableError(DatabaseError):
    """PostgreSQL could not be reached (refused, timed out, name not found); may pass."""


def wrap_sqlite_error(error: sqlite3.Error) -> DatabaseError:
    """The storage exception that stands for ``error``, carrying SQLite's error code."""
    cls = ConstraintError if isinstance(error, sqlite3.IntegrityError) else DatabaseError
    wrapped = cls(str(error))
    wrapped.sqlite_errorcode = getattr(error, "sqlite_errorcode", -1)
    wrapped.sqlite_errorname = getattr(error, "sqlite_errorname", "")
    return wrapped
