"""SQL of the care register (used only by the care services)."""
