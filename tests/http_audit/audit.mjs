// Third-party checks of a running server's /graphql, printed as one JSON object on stdout:
// - "audits": the GraphQL-over-HTTP spec's own audit (graphql-http `serverAudits`), each with
//   its id, name ("MUST ...", "SHOULD ...", "MAY ..."), status (ok, warn, error, notice) and
//   reason;
// - "urql": urql 6's default client (fetch exchange, default preferGetMethod) signing in as a
//   guest and querying `me` and `models` with the token, with the HTTP method of each request.
// Usage: node audit.mjs http://127.0.0.1:8000/graphql
import { createClient, fetchExchange, gql } from '@urql/core';
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

async function runAudits() {
  const results = [];
  for (const audit of serverAudits({ url })) {
    const result = await audit.fn();
    results.push({ id: result.id, name: result.name, status: result.status, reason: result.reason ?? null });
  }
  return results;
}

async function runUrql() {
  const requests = [];
  const recordingFetch = (input, init) => {
    requests.push({ method: init?.method ?? 'GET', accept: new Headers(init?.headers).get('accept') });
    return fetch(input, init);
  };
  const client = createClient({ url, exchanges: [fetchExchange], fetch: recordingFetch });
  const guest = await client.mutation(gql`mutation { loginAsGuest { accessToken user { id } } }`, {}).toPromise();
  const token = guest.data?.loginAsGuest?.accessToken;
  const signedIn = { fetchOptions: { headers: { authorization: `Bearer ${token}` } } };
  const me = await client.query(gql`query Me { me { id userType } }`, {}, signedIn).toPromise();
  const models = await client.query(gql`query Models { models { id } }`, {}, signedIn).toPromise();
  return {
    requests,
    guestId: guest.data?.loginAsGuest?.user?.id ?? null,
    me: me.data?.me ?? null,
    models: models.data?.models?.length ?? 0,
    errors: [guest, me, models].filter((r) => r.error).map((r) => r.error.message),
  };
}

console.log(JSON.stringify({ audits: await runAudits(), urql: await runUrql() }));
