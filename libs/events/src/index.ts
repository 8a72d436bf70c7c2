export * from './topics';
export * from './envelope';
export * from './catalog';
export * from './upcasting';
export * from './event-schemas';
export * from './asyncapi';
export * from './personal-data';
export * from './causality';
