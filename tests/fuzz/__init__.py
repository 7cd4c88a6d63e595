"""Generated attacks: schemathesis sends cases made from the schema to the real server."""
