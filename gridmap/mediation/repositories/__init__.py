"""SQL of the mediation feature (used only by its services)."""
