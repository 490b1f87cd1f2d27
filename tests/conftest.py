"""Plugins for the whole suite: the engines (tests/engines.py) and pytester, which tests the
engines plugin itself."""

pytest_plugins = ["pytester", "tests.engines"]
