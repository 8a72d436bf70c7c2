// Tests are named by cost: *.spec.ts pure unit, *.int-spec.ts against real PostgreSQL/Kafka, *.e2e-spec.ts whole
// flows with the services running as processes. `npm test` runs all three projects.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

// NestJS 12 and several of its dependencies ship ES modules only. Node 20 runs them through require(esm), but Jest's
// own module loader cannot, so every ES-module package is transformed to CommonJS (once; Jest caches the result).
const fs = require('node:fs');
const path = require('node:path');
function esModulePackages(dir = path.join(__dirname, 'node_modules')) {
  const found = [];
  for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      for (const sub of fs.readdirSync(path.join(dir, entry))) found.push(`${entry}/${sub}`);
    } else found.push(entry);
  }
  return found.filter((name) => {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, name, 'package.json'), 'utf8'));
      return pkg.type === 'module';
    } catch {
      return false;
    }
  });
}
const esmPackages = esModulePackages()
  .map((name) => name.replace(/[.+]/g, '\\$&'))
  .join('|');

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages})/)`],
  moduleNameMapper: {
    '^@event-spine/(.*)$': '<rootDir>/libs/$1/src',
    '^@ledger/contract$': '<rootDir>/apps/ledger-contract/src',
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.local/'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,examples,test,scripts}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs,examples,test}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      slowTestThreshold: 30,
      testTimeout: 60000,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/{apps,libs,examples,test}/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      slowTestThreshold: 60,
      testTimeout: 120000,
    },
  ],
  testTimeout: 60000,
  // Every suite closes what it opened (pools, Kafka clients, child processes) in afterAll, and each file exits on
  // its own; run together, a library's lingering timer has kept the runner alive after the last result. CI must end.
  forceExit: true,
};
