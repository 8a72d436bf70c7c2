import 'reflect-metadata';
import { isAbsolute, join } from 'node:path';
import { loadConfig } from '@event-spine/config';
import { createHttpApp, exitOnStartupFailure, runHttpService } from '@event-spine/http';
import { consoleConfig } from './console.config';
import { ConsoleModule, SERVICE_NAME } from './console.module';
import { repositoryRoot } from './services/service-directory';
import { ensureWebBundle, WEB_OUTPUT } from './web/web-bundle';

// The console needs no database or Kafka of its own, so it is started with the HTTP shell alone (as runService does).
async function start(): Promise<void> {
  const config = loadConfig(consoleConfig);
  // The web app is built before the server starts when it is missing or older than its sources (a fresh clone, an
  // edited page); `npm run build` builds it ahead of time.
  const root = repositoryRoot(__dirname);
  const configured = config.CONSOLE_WEB_DIR;
  const webDir = configured ? (isAbsolute(configured) ? configured : join(root, configured)) : join(root, WEB_OUTPUT);
  await ensureWebBundle(root, webDir);
  const app = await createHttpApp(ConsoleModule.forRoot(config, { webDir }), {
    bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES,
  });
  await runHttpService(app, {
    name: SERVICE_NAME,
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
}

start().catch(exitOnStartupFailure(SERVICE_NAME));
