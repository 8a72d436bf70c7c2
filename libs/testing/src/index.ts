export * from './infrastructure';
export * from './names';
export * from './wait';
export * from './test-env';
export * from './service-process';
export * from './decider-spec';
