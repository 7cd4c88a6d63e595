"""Settings, errors, security and logging shared by every layer."""
