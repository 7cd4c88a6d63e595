"""GraphQL over HTTP: negotiation, GET queries, bad bodies, headers, hints."""
