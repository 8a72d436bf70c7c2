export * from './api-error';
export * from './error.filter';
export * from './validation';
export * from './http-app';
export * from './openapi';
export * from './envelope.dto';
