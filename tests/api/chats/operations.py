"""The chat operations the tests send, as module constants."""

CHAT_FIELDS = """
id title visibility createdAt updatedAt currentLeafId messageCount
lastMessage { id } activeGeneration { messageId }
"""
CREATE_CHAT = f"""
mutation CreateChat($input: CreateChatInput) {{ createChat(input: $input) {{ {CHAT_FIELDS} }} }}
"""
UPDATE_CHAT = f"""
mutation UpdateChat($id: ID!, $input: UpdateChatInput!) {{
  updateChat(id: $id, input: $input) {{ {CHAT_FIELDS} }}
}}
"""
DELETE_CHAT = "mutation DeleteChat($id: ID!) { deleteChat(id: $id) }"
SWITCH_BRANCH = """
mutation SwitchBranch($chatId: ID!, $leafId: ID!) {
  switchBranch(chatId: $chatId, leafId: $leafId) { id currentLeafId thread { id } }
}
"""
RATE_MESSAGE = """
mutation Rate($messageId: ID!, $rating: Rating) {
  rateMessage(messageId: $messageId, rating: $rating) { id rating }
}
"""
CHAT = f"query Chat($id: ID!) {{ chat(id: $id) {{ {CHAT_FIELDS} }} }}"
THREAD = """
query Thread($id: ID!, $leafId: ID) {
  chat(id: $id) { currentLeafId thread(leafId: $leafId) { id } }
}
"""
CHATS = """
query Chats($first: Int, $after: String, $search: String) {
  chats(first: $first, after: $after, search: $search) {
    totalCount
    edges { cursor node { id title } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
MESSAGES = """
query Messages($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  chat(id: $id) {
    messages(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""
NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Chat { title }
    ... on Message { chatId text }
    ... on User { email }
  }
}
"""
