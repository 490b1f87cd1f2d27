"""End-to-end tests: the real bot over loopback HTTP, the Pivot simulator, a fake Bot API."""
