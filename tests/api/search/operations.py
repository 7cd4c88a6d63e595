"""The search operations the tests send, as module constants."""

SEARCH_MESSAGES = """
query Search($query: String!, $first: Int, $after: String) {
  searchMessages(query: $query, first: $first, after: $after) {
    edges { cursor node { id chatId text } chat { id title } snippet matches { start length } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
