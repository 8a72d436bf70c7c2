export * from './admin-audit';
export * from './projection';
export * from './projection-runner';
export * from './projections.migration';
export * from './fences.migration';
export * from './offset-resets.migration';
export * from './partition-position';
