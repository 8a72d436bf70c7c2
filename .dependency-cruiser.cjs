/**
 * Architecture rules as code. A reader should know where things live, and the code should not be able to quietly
 * grow the wrong dependencies.
 */
module.exports = {
  forbidden: [
    {
      name: 'libs-never-import-apps',
      comment:
        "Libraries are the domain-free platform; applications, a domain's contract (apps/ledger-contract) and examples are built from them, never the reverse.",
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^(apps|examples)/' },
    },
    {
      name: 'apps-are-independent',
      comment:
        'Each service deploys alone: no application imports another (the projector never imports the command service).',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: ['^apps/$1/', '^apps/ledger-contract/'] },
    },
    {
      name: 'ledger-contract-is-data',
      comment:
        'The ledger contract (its events and catalog) is shared by the ledger services; it depends on no service.',
      severity: 'error',
      from: { path: '^apps/ledger-contract/' },
      to: { path: '^apps/', pathNot: '^apps/ledger-contract/' },
    },
    {
      name: 'examples-use-only-package-entry-points',
      comment:
        "An example is a team's own application: it reaches Event Spine only through the @event-spine/* entry points (libs/<name>/src/index.ts), never a file inside a library, and never the ledger.",
      severity: 'error',
      from: { path: '^examples/' },
      to: { path: ['^libs/[^/]+/src/(?!index\\.ts$)', '^apps/'] },
    },
    {
      name: 'examples-are-independent',
      comment: 'Each example domain stands alone, as another team’s repository would.',
      severity: 'error',
      from: { path: '^examples/([^/]+)/' },
      to: { path: '^examples/', pathNot: '^examples/$1/' },
    },
    {
      name: 'domain-is-pure',
      comment: 'Domain code (decide/evolve, event types) imports no framework, ORM or driver.',
      severity: 'error',
      from: { path: '(^|/)domain/' },
      to: { path: 'node_modules/(@nestjs|typeorm|kafkajs|pg|@grpc|fastify|class-validator|class-transformer)/' },
    },
    {
      name: 'events-contract-has-no-runtime-dependencies',
      comment: 'libs/events is the wire contract shared by every service and external consumers.',
      severity: 'error',
      from: { path: '^libs/events/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer'] },
    },
    {
      name: 'production-code-never-imports-testing',
      comment: 'libs/testing is for suites only.',
      severity: 'error',
      from: {
        path: '^(apps|libs)/',
        pathNot: ['\\.(spec|int-spec|e2e-spec)\\.ts$', '^libs/testing/', '^apps/[^/]+/test/'],
      },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '/dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
