// Drives the server's GraphiQL page in a real Chromium and checks that a chatStream
// subscription shows its tokens arriving, one TextDelta after another.
//
// Usage (the server running with its defaults, `uv run main.py` from the repository root):
//   cd examples/browser && npm install && npm run check -- [http://127.0.0.1:8000] [out-dir]
//
// Needs a Chromium binary (CHROMIUM, default /usr/bin/chromium). The page's GraphiQL assets
// come from unpkg.com; on a machine without internet they are served from these npm
// packages, the same versions (their SRI hashes match).
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const base = process.argv[2] || 'http://127.0.0.1:8000';
const outDir = process.argv[3] || '.';
const packages = {
  'react@18.2.0': 'react',
  'react-dom@18.2.0': 'react-dom',
  'js-cookie@3.0.5': 'js-cookie',
  'graphiql@3.8.3': 'graphiql',
  '@graphiql/plugin-explorer@1.0.2': '@graphiql/plugin-explorer',
};
const SUBSCRIPTION = `subscription Stream($input: ChatStreamInput!) {
  chatStream(input: $input) {
    __typename
    ... on StreamStarted { seq model }
    ... on TextDelta { seq delta }
    ... on StreamFinished { seq finishReason message { status text } }
  }
}`;

async function guestToken() {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query: 'mutation { loginAsGuest { accessToken } }' }),
  });
  return (await response.json()).data.loginAsGuest.accessToken;
}

async function serveAssetsLocally(page) {
  await page.route('https://unpkg.com/**', async (route) => {
    const rest = new URL(route.request().url()).pathname.slice(1);
    const spec = Object.keys(packages).find((key) => rest.startsWith(`${key}/`));
    if (!spec) return route.abort();
    const file = path.join(__dirname, 'node_modules', packages[spec], rest.slice(spec.length + 1));
    await route.fulfill({
      contentType: file.endsWith('.css') ? 'text/css' : 'application/javascript',
      headers: { 'access-control-allow-origin': '*' },
      body: fs.readFileSync(file),
    });
  });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
    await serveAssetsLocally(page);
    const variables = {
      input: {
        chatId: crypto.randomUUID(),
        message: { parts: [{ text: 'Hello from GraphiQL in a real browser!' }] },
      },
    };
    const headers = { Authorization: `Bearer ${await guestToken()}` };
    const query = new URLSearchParams({
      q: SUBSCRIPTION, variables: JSON.stringify(variables, null, 2), headers: JSON.stringify(headers),
    });
    await page.goto(`${base}/graphql?${query}`.replace(/\+/g, '%20'), { waitUntil: 'networkidle' });
    await page.click('.graphiql-execute-button');
    const seen = new Set();
    let finished = false;
    for (let i = 0; i < 400 && !finished; i += 1) {
      await page.waitForTimeout(50);
      const shown = await page.locator('.result-window').innerText().catch(() => '');
      const seq = shown.match(/"seq": (\d+)/);
      if (seq) seen.add(Number(seq[1]));
      if (seen.size === 3) await page.screenshot({ path: path.join(outDir, 'graphiql-streaming.png') });
      finished = shown.includes('StreamFinished');
    }
    await page.screenshot({ path: path.join(outDir, 'graphiql-finished.png') });
    console.log(`distinct seq values seen while streaming: ${seen.size}; finished: ${finished}`);
    if (seen.size < 3 || !finished) process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
