export * from './event-log';
export * from './event-log.migration';
