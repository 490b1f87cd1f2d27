"""``python -m bot`` is the ``kodebayar`` command."""

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
