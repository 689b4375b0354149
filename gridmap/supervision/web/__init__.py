"""The inbox API (supervision notices, dispatches, whistles, returns)."""
