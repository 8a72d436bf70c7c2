// Types for lock-drift.js, which stays plain JavaScript because it runs before any dependency is installed.
export interface LockFile {
  packages?: Record<string, Record<string, unknown>>;
}
export interface LockDrift {
  platform: { added: string[]; removed: string[] };
  real: string[];
}
export function compareLocks(committed: LockFile, regenerated: LockFile): LockDrift;
export function summarise(drift: LockDrift): string;
