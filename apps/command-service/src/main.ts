import 'reflect-metadata';
import { loadConfig } from '@event-spine/config';
import { createHttpApp, exitOnStartupFailure, runHttpService } from '@event-spine/http';
import { commandServiceConfig } from './command-service.config';
import { CommandServiceModule, SERVICE_NAME } from './command-service.module';
import { grpcOptions } from './grpc.options';

async function main(): Promise<void> {
  const config = loadConfig(commandServiceConfig);
  const app = await createHttpApp(CommandServiceModule.forRoot(config), {
    bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES,
    openApi: {
      title: 'Event Spine command API',
      description: 'Commands and event-log reads',
      version: '1',
      bearerAuth: true,
      servers: [{ url: `http://127.0.0.1:${config.HTTP_PORT}`, description: 'this command service (npm run up)' }],
    },
    // gRPC in the same process, on the same providers: the very same command handlers serve both transports.
    configure: (nest) => nest.connectMicroservice(grpcOptions(config.GRPC_HOST, config.GRPC_PORT)),
  });
  await runHttpService(app, {
    name: SERVICE_NAME,
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
}

main().catch(exitOnStartupFailure(SERVICE_NAME));
