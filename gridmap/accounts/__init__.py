"""Accounts: sign-in, roles and scopes, personal API tokens, Open311 client keys, the audit log."""
