export * from './correlation';
export * from './logging.module';
export * from './metrics';
export * from './health';
export * from './tracing';
export * from './tenant-signals';
