"""Messages: the tree of a chat, message parts, and per-user feedback."""
