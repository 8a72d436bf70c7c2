import { authConfig } from '@event-spine/auth';
import { commonConfig, int, port, str } from '@event-spine/config';

/** The console's variables: where it serves, how it checks tokens, and where it finds the services. */
export const consoleConfig = {
  ...commonConfig,
  HTTP_HOST: str('interface the console binds to', { default: '127.0.0.1' }),
  HTTP_PORT: port('HTTP port of the operator console (web app and its API)', 3003),
  JWT_SECRET: str('HS256 secret that signs bearer tokens (at least 32 characters)', { minLength: 32, secret: true }),
  ...authConfig,
  CONSOLE_SERVICES: str(
    'the services as JSON [{domain, services: [{name, role, url}]}]; empty: every spine.services.json of the repository on 127.0.0.1',
    { default: '' },
  ),
  CONSOLE_SAMPLE_MS: int('how often the console samples the services’ metrics for the overview charts', {
    default: 5000,
    min: 200,
  }),
  CONSOLE_WEB_DIR: str('folder of the built web app (built there at start-up when missing or older than its sources)', {
    default: '',
  }),
} as const;
