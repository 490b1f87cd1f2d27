"""Tests of the bot package."""

SELLER = 2000  # the seller the ``db`` fixture (conftest.py) holds unless a module says otherwise
