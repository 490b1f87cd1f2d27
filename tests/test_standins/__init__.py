"""Tests of the stand-ins themselves (tests/standins)."""
