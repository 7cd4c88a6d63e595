// The GraphiQL page of GET /graphql: queries over HTTP, subscriptions over
// graphql-transport-ws, and the Headers tab also sent as the connection_init payload.
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './page.css';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

const url = new URL(window.location.pathname, window.location.origin);
const subscriptionUrl = new URL(url);
subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

// With subscriptionUrl, the toolkit opens a graphql-ws client per subscription whose
// connectionParams are the Headers tab: {"Authorization": "Bearer ..."} authenticates it.
const fetcher = createGraphiQLFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });
const plugins = [explorerPlugin()];

createRoot(document.getElementById('graphiql')).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} plugins={plugins} defaultEditorToolsVisibility="headers" />
  </StrictMode>,
);
