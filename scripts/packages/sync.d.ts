// Types for sync.js, plain JavaScript so CI runs it with node alone.
export interface Plan {
  libs: string[];
  /** Absolute path of each generated file -> its expected contents. */
  files: Map<string, Record<string, unknown>>;
  notes: string[];
  problems: string[];
}
export function discoverLibs(root?: string): string[];
export function moduleSpecifiers(file: string): string[];
export function packageOf(specifier: string): { name: string; subpath: string } | null;
export function plan(root?: string): Plan;
export function main(argv?: string[]): Promise<number>;
