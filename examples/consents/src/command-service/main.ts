import 'reflect-metadata';
import { runService } from '@event-spine/platform';
import { ConsentsCommandModule, consentsCommandConfig, SERVICE_NAME } from './consents-command.module';

runService({
  name: SERVICE_NAME,
  config: consentsCommandConfig,
  module: (config) => ConsentsCommandModule.forRoot(config),
  http: (config) => ({
    openApi: {
      title: 'Consents command API',
      description: 'Consents, credit checks and event-log reads',
      version: '1',
      bearerAuth: true,
      servers: [{ url: `http://127.0.0.1:${config.HTTP_PORT}`, description: 'this command service (npm run up)' }],
    },
  }),
});
