export * from './principal';
export * from './jwt';
export * from './token-verifier';
export * from './auth.config';
export * from './auth.guard';
export * from './auth.module';
