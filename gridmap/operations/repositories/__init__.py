"""Operations repositories: the catalogue queries backup and restore need."""
