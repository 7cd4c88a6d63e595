"""Libraries below the API: database, model providers, streaming."""
