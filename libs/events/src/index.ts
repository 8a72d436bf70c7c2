export * from './topics';
export * from './envelope';
export * from './ledger-events';
export * from './upcasting';
export * from './event-schemas';
export * from './asyncapi';
