export * from './outbox.migration';
export * from './outbox.writer';
