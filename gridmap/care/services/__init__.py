"""Care register use cases: privacy checks, transactions, answers."""
