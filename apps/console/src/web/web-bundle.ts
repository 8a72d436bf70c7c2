import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the web app's sources are, relative to the repository. */
export const WEB_SOURCES = 'apps/console/web';
/** Where `npm run build` (and the console at start-up) puts the built web app. */
export const WEB_OUTPUT = 'dist/console-web';

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** True when the built app is missing or older than any of its sources. */
export function webBundleStale(root: string, outDir: string): boolean {
  const index = join(outDir, 'index.html');
  const sources = join(root, WEB_SOURCES);
  if (!existsSync(index)) return true;
  if (!existsSync(sources)) return false;
  return newest(sources) > statSync(index).mtimeMs;
}

/**
 * Builds the single-page app with esbuild (Preact, JSX, one JS and one CSS file, minified, no CDN): the scripts' and
 * styles' names carry a content hash, index.html is written last.
 */
export async function buildWebBundle(root: string, outDir: string): Promise<string[]> {
  const esbuild = await import('esbuild');
  const sources = join(root, WEB_SOURCES);
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { app: join(sources, 'src/main.tsx'), styles: join(sources, 'src/styles.css') },
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(sources, 'tsconfig.json'),
    outdir: outDir,
    entryNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => p.slice(p.lastIndexOf('/') + 1));
  const js = outputs.find((f) => f.startsWith('app-') && f.endsWith('.js'))!;
  const css = outputs.find((f) => f.startsWith('styles-') && f.endsWith('.css'))!;
  copyFileSync(join(sources, 'public/favicon.svg'), join(outDir, 'favicon.svg'));
  writeFileSync(
    join(outDir, 'index.html'),
    `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Event Spine console</title>
    <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
    <link rel="stylesheet" href="/${css}" />
  </head>
  <body>
    <div id="app"></div>
    <script type="module" src="/${js}"></script>
  </body>
</html>
`,
  );
  return [js, css, 'index.html'];
}

/** Builds the app when it is missing or stale; answers whether it built. */
export async function ensureWebBundle(root: string, outDir: string): Promise<boolean> {
  if (!webBundleStale(root, outDir)) return false;
  await buildWebBundle(root, outDir);
  return true;
}
