import 'reflect-metadata';
import { runService } from '@event-spine/platform';
import { projectorConfig } from './projector.config';
import { ProjectorModule, SERVICE_NAME } from './projector.module';

runService({
  name: SERVICE_NAME,
  config: projectorConfig,
  module: (config) => ProjectorModule.forRoot(config),
  http: (config) => ({
    openApi: {
      title: 'Event Spine projector API',
      description: 'Read models and admin replay',
      version: '1',
      bearerAuth: true,
      servers: [{ url: `http://127.0.0.1:${config.HTTP_PORT}`, description: 'this projector (npm run up)' }],
    },
  }),
});
