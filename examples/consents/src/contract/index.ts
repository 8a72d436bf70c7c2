export * from './consents-events';
export * from './consents.catalog';
