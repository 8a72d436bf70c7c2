export * from './config';
export * from './common.config';
