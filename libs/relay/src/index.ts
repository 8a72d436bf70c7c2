export * from './holdback';
export * from './outbox-relay';
