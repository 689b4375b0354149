"""Supervision of overdue cases (督办): escalation rules, the inbox and notifications."""
