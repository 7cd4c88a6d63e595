// Builds the GraphiQL page into ../src/api/graphiql/static: minified, content-hashed files
// (the server gives them a year-long cache) and index.html naming them by their path on this
// server. Nothing is loaded from another host. Run: npm ci && npm run build
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, '..', 'src', 'api', 'graphiql', 'static');
const PUBLIC_PATH = '/graphiql';

await rm(outdir, { recursive: true, force: true });
const { metafile } = await esbuild.build({
  entryPoints: [{ in: path.join(here, 'src', 'main.jsx'), out: 'graphiql' }],
  bundle: true,
  minify: true,
  legalComments: 'none',
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
  outdir,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  publicPath: PUBLIC_PATH,
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(metafile.outputs).map((file) => path.basename(file));
const script = outputs.find((name) => name.endsWith('.js'));
const style = outputs.find((name) => name.endsWith('.css'));
await writeFile(
  path.join(outdir, 'index.html'),
  `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="${PUBLIC_PATH}/${style}">
    <script type="module" src="${PUBLIC_PATH}/${script}"></script>
  </head>
  <body>
    <div id="graphiql">Loading…</div>
  </body>
</html>
`,
);
console.log(outputs.join('\n'));
