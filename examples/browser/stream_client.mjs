// A minimal JavaScript client with the `graphql-ws` library (what web and Node apps use):
// sign in as a guest, stream a reply, print its tokens as they arrive.
//
// Usage (the server running, `uv run main.py`):
//   cd examples/browser && npm install && node stream_client.mjs "What is 6*7?" [http://127.0.0.1:8000]
import { randomUUID } from 'node:crypto';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const text = process.argv[2] || 'Hello!';
const base = process.argv[3] || 'http://127.0.0.1:8000';

const response = await fetch(`${base}/graphql`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ query: 'mutation { loginAsGuest { accessToken } }' }),
});
const token = (await response.json()).data.loginAsGuest.accessToken;

const client = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
});

const events = client.iterate({
  query: `subscription Stream($input: ChatStreamInput!) {
    chatStream(input: $input) {
      __typename
      ... on TextDelta { delta }
      ... on ToolCallEvent { toolName arguments }
      ... on StreamFinished { finishReason message { status } }
      ... on StreamFailed { code errorMessage }
    }
  }`,
  variables: { input: { chatId: randomUUID(), message: { parts: [{ text }] } } },
});

for await (const { data, errors } of events) {
  if (errors) throw new Error(JSON.stringify(errors));
  const event = data.chatStream;
  if (event.__typename === 'TextDelta') process.stdout.write(event.delta);
  else console.log(`\n[${event.__typename}] ${JSON.stringify(event)}`);
}
await client.dispose();
