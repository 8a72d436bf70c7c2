export * from './ledger-events';
export * from './ledger.catalog';
