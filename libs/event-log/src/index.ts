export * from './event-log';
export * from './event-log.migration';
export * from './nest/event-feed.http.controller';
export * from './nest/event-log-http.module';
export * from './nest/event-log-http.options';
export * from './nest/page.query.dto';
export * from './nest/subject-events.http.controller';
