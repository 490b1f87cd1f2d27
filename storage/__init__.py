"""Kodebayar's SQLite storage: schema, migrations and typed repositories."""
