export * from './action-registry';
export * from './command-executor';
export * from './commands.migration';
