"""Database: models, sessions, repositories and migrations."""
