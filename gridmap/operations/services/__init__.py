"""Operations services: backup and restore, each one call from the CLI."""
