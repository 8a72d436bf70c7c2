import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configReference } from './config-reference';

describe('README', () => {
  const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');

  it('carries the configuration reference generated from the services’ config schemas', () => {
    expect(readme).toContain(configReference());
  });

  it('has a quick start of exactly two commands', () => {
    const quickStart = /## Quick start\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
    const commands = /```bash\n([\s\S]*?)```/.exec(quickStart)?.[1]?.trim().split('\n') ?? [];
    expect(commands).toEqual(['npm run up', 'npm test']);
  });
});
