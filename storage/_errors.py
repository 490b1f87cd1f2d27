"""Exceptions raised by storage.

The hierarchy::

    StorageError                 base of everything storage raises on purpose
    ├── DatabaseTooNewError      the file's schema is newer than this Kodebayar knows
    ├── DatabasePathError        the path cannot hold the database: a folder, under a file,
    │                            or in a folder this user cannot create or write
    ├── RecordNotFoundError      a write named a row that does not exist (or is in no state
    │                            to take that write)
    └── DatabaseError            SQLite failed: locked, read-only, disk full, closed file...
        │                        (also a ``sqlite3.Error``); the original is ``__cause__``
        └── ConstraintError      a UNIQUE, FOREIGN KEY or CHECK constraint refused a write
                                 (also a ``sqlite3.IntegrityError``)

Every ``sqlite3.Error`` raised inside storage, on a read or in a write transaction, is wrapped
in ``DatabaseError`` or ``ConstraintError``. They also subclass the ``sqlite3`` class they
replace, so a caller may catch either family. A naive datetime is refused with ``ValueError``.
"""

from __future__ import annotations

import sqlite3

__all__ = [
    "ConstraintError",
    "DatabaseError",
    "DatabasePathError",
    "DatabaseTooNewError",
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


class DatabasePathError(StorageError):
    """The database path cannot hold a database file; the message says why, in one line."""


class RecordNotFoundError(StorageError):
    """A write named a row that does not exist or cannot take that write."""


class DatabaseError(StorageError, sqlite3.Error):
    """SQLite failed; the ``sqlite3`` exception is the ``__cause__``."""


class ConstraintError(DatabaseError, sqlite3.IntegrityError):
    """A UNIQUE, FOREIGN KEY or CHECK constraint refused a write."""


def wrap_sqlite_error(error: sqlite3.Error) -> DatabaseError:
    """The storage exception that stands for ``error``, carrying SQLite's error code."""
    cls = ConstraintError if isinstance(error, sqlite3.IntegrityError) else DatabaseError
    wrapped = cls(str(error))
    wrapped.sqlite_errorcode = getattr(error, "sqlite_errorcode", -1)
    wrapped.sqlite_errorname = getattr(error, "sqlite_errorname", "")
    return wrapped
