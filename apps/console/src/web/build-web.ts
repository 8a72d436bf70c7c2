// `npm run build:console`: builds the console's web app into dist/console-web (the console also does it at start-up
// when the build is missing or older than its sources).
import { join } from 'node:path';
import { repositoryRoot } from '../services/service-directory';
import { buildWebBundle, WEB_OUTPUT } from './web-bundle';

const root = repositoryRoot(__dirname);
buildWebBundle(root, join(root, WEB_OUTPUT)).then(
  (files) => process.stdout.write(`[console] web app built: ${WEB_OUTPUT}/{${files.join(',')}}\n`),
  (error: unknown) => {
    process.stderr.write(`[console] web app build failed: ${String(error)}\n`);
    process.exit(1);
  },
);
