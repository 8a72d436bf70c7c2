export * from './data-source';
export * from './persistence.module';
export * from './pool-errors';
export * from './transaction';
export * from './statements';
export * from './rows-of';
export * from './pipeline';
export * from './horizon';
