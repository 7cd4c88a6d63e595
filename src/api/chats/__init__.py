"""Chats: create, read, list with search, rename, share, delete, switch branch."""
