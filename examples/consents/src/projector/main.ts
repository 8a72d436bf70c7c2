import 'reflect-metadata';
import { runService } from '@event-spine/platform';
import { ConsentsProjectorModule, consentsProjectorConfig, SERVICE_NAME } from './consents-projector.module';

runService({
  name: SERVICE_NAME,
  config: consentsProjectorConfig,
  module: (config) => ConsentsProjectorModule.forRoot(config),
  http: (config) => ({
    openApi: {
      title: 'Consents projector API',
      description: 'Consent status and credit-pull evidence read models, and admin replay',
      version: '1',
      bearerAuth: true,
      servers: [{ url: `http://127.0.0.1:${config.HTTP_PORT}`, description: 'this projector (npm run up)' }],
    },
  }),
});
