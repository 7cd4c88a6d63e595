"""Third-party HTTP checks run by .ci/run: the graphql-http audit and urql's default client."""
