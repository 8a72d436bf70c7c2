import type { DynamicModule } from '@nestjs/common';
import { loadConfig, type ConfigOf, type ConfigSchema } from '@event-spine/config';
import { startTracing, stopTracing } from '@event-spine/observability';
import { createHttpApp, exitOnStartupFailure, runHttpService, type HttpAppOptions } from '@event-spine/http';

interface ServedConfig {
  HTTP_HOST: string;
  HTTP_PORT: number;
  HTTP_BODY_LIMIT_BYTES: number;
  SHUTDOWN_TIMEOUT_MS: number;
}

export interface ServiceDefinition<S extends ConfigSchema> {
  name: string;
  /** The service's variables; read from the environment and checked before anything starts. */
  config: S;
  module(config: ConfigOf<S>): DynamicModule;
  /** The OpenAPI document's title and description (served at /docs), the gRPC transport, … */
  http?(config: ConfigOf<S>): Omit<HttpAppOptions, 'bodyLimitBytes'>;
}

/**
 * A service's `main`: reads and checks its configuration, builds the Nest application with the platform's HTTP
 * conventions, listens, and shuts down gracefully on SIGTERM. A bad variable or a failed start exits with status 1
 * and one line saying why.
 */
export function runService<S extends ConfigSchema>(definition: ServiceDefinition<S>): void {
  const start = async () => {
    const config = loadConfig(definition.config);
    // Before the application is built, so every span of its start-up already goes to the exporter.
    startTracing(definition.name);
    const served = config as ConfigOf<S> & ServedConfig;
    const app = await createHttpApp(definition.module(config), {
      ...definition.http?.(config),
      bodyLimitBytes: served.HTTP_BODY_LIMIT_BYTES,
    });
    await runHttpService(app, {
      name: definition.name,
      host: served.HTTP_HOST,
      port: served.HTTP_PORT,
      shutdownTimeoutMs: served.SHUTDOWN_TIMEOUT_MS,
      beforeExit: stopTracing,
    });
  };
  start().catch(exitOnStartupFailure(definition.name));
}
