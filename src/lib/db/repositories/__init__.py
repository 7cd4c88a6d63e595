"""Repositories: every SQL statement of the application."""
