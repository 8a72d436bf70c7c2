import { Module, type DynamicModule } from '@nestjs/common';
import { EventFeedHttpController } from './event-feed.http.controller';
import { EVENT_LOG_CATALOG, type EventLogHttpModuleOptions } from './event-log-http.options';
import { subjectEventsHttpController } from './subject-events.http.controller';

/**
 * The event log's read routes of the spec, for the domain the catalog describes: `GET /v1/events` (the tenant's
 * gap-safe feed) and `GET /v1/subjects/:subjectType/:subjectId/events` (a subject's history). The application
 * provides persistence (with `eventLogMigrations`) and `AuthModule`: both routes need a bearer token.
 */
@Module({})
export class EventLogHttpModule {
  static forRoot(options: EventLogHttpModuleOptions): DynamicModule {
    return {
      module: EventLogHttpModule,
      controllers: [subjectEventsHttpController(options.catalog), EventFeedHttpController],
      providers: [{ provide: EVENT_LOG_CATALOG, useValue: options.catalog }],
    };
  }
}
