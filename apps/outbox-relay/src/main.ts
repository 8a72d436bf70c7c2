import 'reflect-metadata';
import { loadConfig } from '@event-spine/config';
import { createHttpApp, exitOnStartupFailure, runHttpService } from '@event-spine/http';
import { outboxRelayConfig } from './outbox-relay.config';
import { OutboxRelayModule, SERVICE_NAME } from './outbox-relay.module';

async function main(): Promise<void> {
  const config = loadConfig(outboxRelayConfig);
  const app = await createHttpApp(OutboxRelayModule.forRoot(config), { bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES });
  await runHttpService(app, {
    name: SERVICE_NAME,
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
}

main().catch(exitOnStartupFailure(SERVICE_NAME));
