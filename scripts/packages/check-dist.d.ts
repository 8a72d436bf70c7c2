// Types for check-dist.js, plain JavaScript so CI runs it with node alone.
export function checkDist(root?: string): string[];
