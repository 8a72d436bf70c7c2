export * from './topics';
export * from './envelope';
export * from './ledger-events';
export * from './upcasting';
