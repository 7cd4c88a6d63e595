"""The GraphQL API: one folder per feature, merged into one schema in `schema.py`."""
