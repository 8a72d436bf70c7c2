export * from './holdback';
export * from './outbox-relay';
export * from './outbox-cleaner';
export * from './nest/outbox-readiness.check';
export * from './nest/outbox-relay.module';
export * from './nest/relay-metrics';
export * from './nest/relay.config';
export * from './nest/relay.service';
