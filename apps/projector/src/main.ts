import 'reflect-metadata';
import { loadConfig } from '@event-spine/config';
import { createHttpApp, exitOnStartupFailure, runHttpService } from '@event-spine/http';
import { projectorConfig } from './projector.config';
import { ProjectorModule, SERVICE_NAME } from './projector.module';

async function main(): Promise<void> {
  const config = loadConfig(projectorConfig);
  const app = await createHttpApp(ProjectorModule.forRoot(config), {
    bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES,
    openApi: {
      title: 'Event Spine projector API',
      description: 'Read models and admin replay',
      version: '1',
      bearerAuth: true,
      servers: [{ url: `http://127.0.0.1:${config.HTTP_PORT}`, description: 'this projector (npm run up)' }],
    },
  });
  await runHttpService(app, {
    name: SERVICE_NAME,
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
}

main().catch(exitOnStartupFailure(SERVICE_NAME));
