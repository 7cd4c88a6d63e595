"""Search: the caller's messages by words, on every branch of every chat they own."""
