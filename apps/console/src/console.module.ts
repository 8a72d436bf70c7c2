import { Module, type DynamicModule } from '@nestjs/common';
import { AuthModule, authOptions } from '@event-spine/auth';
import type { ConfigOf } from '@event-spine/config';
import { HealthModule, LoggingModule, MetricsModule } from '@event-spine/observability';
import type { consoleConfig } from './console.config';
import { CONSOLE_SAMPLE_MS, OverviewSampler } from './overview/overview.sampler';
import { OverviewHttpController } from './overview/overview.http.controller';
import { ProxyHttpController } from './proxy/proxy.http.controller';
import { DomainsHttpController } from './services/domains.http.controller';
import { ServiceDirectory } from './services/service-directory';
import { CONSOLE_WEB_DIR, WebHttpController } from './web/web.http.controller';

export const SERVICE_NAME = 'console';

/**
 * The operator console: the built web app, and the API it calls: the overview (health, relay and projection figures
 * sampled from every domain's services), the domains' subject types, and a pass-through to each service with the
 * caller's own token (every other page, the admin audit log included, reads the services through it).
 */
@Module({})
export class ConsoleModule {
  static forRoot(config: ConfigOf<typeof consoleConfig>, options: { webDir: string }): DynamicModule {
    return {
      module: ConsoleModule,
      imports: [
        LoggingModule.forRoot({ service: SERVICE_NAME, level: config.LOG_LEVEL, pretty: config.LOG_PRETTY }),
        MetricsModule.forRoot(SERVICE_NAME, { topTenants: config.METRICS_TOP_TENANTS }),
        HealthModule.forRoot([]),
        AuthModule.forRoot(authOptions(config, config.JWT_SECRET)),
      ],
      controllers: [OverviewHttpController, DomainsHttpController, ProxyHttpController, WebHttpController],
      providers: [
        { provide: ServiceDirectory, useValue: ServiceDirectory.fromConfig(config) },
        { provide: CONSOLE_SAMPLE_MS, useValue: config.CONSOLE_SAMPLE_MS },
        { provide: CONSOLE_WEB_DIR, useValue: options.webDir },
        OverviewSampler,
      ],
    };
  }
}
