"""An async client for Pivot Payment's API, its callbacks, and a local simulator."""
