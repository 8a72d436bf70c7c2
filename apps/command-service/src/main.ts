import 'reflect-metadata';
import { runService } from '@event-spine/platform';
import { commandServiceConfig } from './command-service.config';
import { CommandServiceModule, SERVICE_NAME } from './command-service.module';
import { grpcOptions } from './grpc.options';

runService({
  name: SERVICE_NAME,
  config: commandServiceConfig,
  module: (config) => CommandServiceModule.forRoot(config),
  http: (config) => ({
    openApi: {
      title: 'Event Spine command API',
      description: 'Commands and event-log reads',
      version: '1',
      bearerAuth: true,
      servers: [{ url: `http://127.0.0.1:${config.HTTP_PORT}`, description: 'this command service (npm run up)' }],
    },
    // gRPC in the same process, on the same providers: the very same command handlers serve both transports.
    configure: (nest) => nest.connectMicroservice(grpcOptions(config.GRPC_HOST, config.GRPC_PORT)),
  }),
});
