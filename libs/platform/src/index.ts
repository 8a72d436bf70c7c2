export * from './platform.module';
export * from './run-service';
export * from './service.config';
export * from './service-modules';
