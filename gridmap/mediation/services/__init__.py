"""Mediation services: transactions, privacy checks, the audit log."""
