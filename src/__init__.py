"""Chat API server: GraphQL API, core services and libraries."""
