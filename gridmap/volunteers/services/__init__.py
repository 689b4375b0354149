"""Party and volunteer use cases: scope checks, transactions, answers."""
