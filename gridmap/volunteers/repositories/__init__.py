"""SQL of the Party layers and the volunteers (used only by their services)."""
