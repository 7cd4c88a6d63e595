"""Accounts: registration, login, guests, tokens."""
