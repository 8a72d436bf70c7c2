import { DEFAULT_URL, parseCli, parseFrom, rebuildCommandLine, shellQuote, UsageError, type Cli } from './cli';

const SUBJECT = '0b0f3c1e-5a2d-4c1b-9f7e-2d1c3b4a5f60';
const parse = (argv: string[], env: Record<string, string | undefined> = {}): Cli => parseCli(argv, env);
const usageError = (argv: string[], pattern: RegExp) => {
  expect(() => parse(argv)).toThrow(UsageError);
  expect(() => parse(argv)).toThrow(pattern);
};

describe('spine replay arguments → request body', () => {
  it('defaults to a preview from Kafka, from the earliest offsets, attached', () => {
    expect(parse(['replay', 'account-balances']).command).toEqual({
      kind: 'replay',
      projection: 'account-balances',
      request: { mode: 'preview', source: 'kafka', from: { earliest: true } },
      detach: false,
    });
  });

  it('builds the full body: mode, source, timestamp, scope, confirm, batch size', () => {
    const { command, json } = parse([
      'replay',
      'tenant-totals',
      '--mode',
      'rebuild',
      '--source=event-log',
      '--from',
      '2026-11-22T14:00:00+01:00',
      '--tenant-scope',
      't1',
      '--subject',
      SUBJECT,
      '--confirm',
      'preview-7',
      '--batch-size',
      '250',
      '--detach',
      '--json',
    ]);
    expect(json).toBe(true);
    expect(command).toEqual({
      kind: 'replay',
      projection: 'tenant-totals',
      request: {
        mode: 'rebuild',
        source: 'event-log',
        from: { timestamp: '2026-11-22T13:00:00.000Z' },
        scope: { tenantId: 't1', subjectId: SUBJECT },
        confirm: 'preview-7',
        batchSize: 250,
      },
      detach: true,
    });
  });

  it('sends only the scope fields that were given', () => {
    const command = parse(['replay', 'p', '--subject', SUBJECT]).command;
    expect(command.kind === 'replay' && command.request.scope).toEqual({ subjectId: SUBJECT });
  });

  it.each([
    [['replay'], /one projection name/],
    [['replay', 'a', 'b'], /one projection name/],
    [['replay', 'p', '--mode', 'dry-run'], /--mode must be preview or rebuild, not "dry-run"/],
    [['replay', 'p', '--source', 'db'], /--source must be kafka or event-log/],
    [['replay', 'p', '--batch-size', '0'], /--batch-size must be a positive integer/],
    [['replay', 'p', '--batch-size', '1.5'], /--batch-size must be a positive integer/],
    [['replay', 'p', '--subject', 'not-a-uuid'], /--subject must be a UUID/],
    [['replay', 'p', '--confirm', 'x'], /use it with --mode rebuild/],
    [['replay', 'p', '--retry', 'account/x'], /replay does not take --retry/],
    [['replay', 'p', '--bogus'], /Unknown option '--bogus'/],
    [['replay', 'p', '--from'], /argument missing/],
  ])('refuses %j', (argv, message) => usageError(argv, message));
});

describe('--from', () => {
  it('reads earliest, timestamps (normalised to UTC) and offsets', () => {
    expect(parseFrom('earliest')).toEqual({ earliest: true });
    expect(parseFrom('2026-11-22')).toEqual({ timestamp: '2026-11-22T00:00:00.000Z' });
    expect(parseFrom('2026-11-22T14:00:00.5Z')).toEqual({ timestamp: '2026-11-22T14:00:00.500Z' });
    expect(parseFrom('spine.account.events:0:42,spine.account.events:1:0,t.transfer:2:9223372036854775807')).toEqual({
      offsets: [
        { topic: 'spine.account.events', partition: 0, offset: '42' },
        { topic: 'spine.account.events', partition: 1, offset: '0' },
        { topic: 't.transfer', partition: 2, offset: '9223372036854775807' },
      ],
    });
    expect(parseFrom('t:0:007')).toEqual({ offsets: [{ topic: 't', partition: 0, offset: '7' }] });
  });

  it.each([
    ['2026-02-30', /not a valid date/],
    ['2026-13-01T00:00:00Z', /not a valid date/],
    ['yesterday', /earliest, an ISO timestamp or topic:partition:offset/],
    ['topic:0', /not topic:partition:offset/],
    ['topic:-1:5', /not topic:partition:offset/],
    ['bad topic:0:5', /not topic:partition:offset/],
    ['t:0:1,t:0:2', /names t:0 twice/],
    ['t:0:9223372036854775808', /out of range/],
    ['t:99999999999999999999:0', /out of range/],
  ])('refuses %s', (value, message) => {
    expect(() => parseFrom(value)).toThrow(UsageError);
    expect(() => parseFrom(value)).toThrow(message);
  });
});

describe('spine commands', () => {
  it('status, with and without a replay id', () => {
    expect(parse(['status']).command).toEqual({ kind: 'status', replayId: undefined });
    expect(parse(['status', 'r-1']).command).toEqual({ kind: 'status', replayId: 'r-1' });
    usageError(['status', 'a', 'b'], /at most one replay id/);
  });

  it('cancel needs exactly one replay id', () => {
    expect(parse(['cancel', 'r-1']).command).toEqual({ kind: 'cancel', replayId: 'r-1' });
    usageError(['cancel'], /one replay id/);
  });

  it('parked lists, retries or skips one subject', () => {
    expect(parse(['parked']).command).toEqual({ kind: 'parked' });
    expect(parse(['parked', '--retry', `account/${SUBJECT}`]).command).toEqual({
      kind: 'parked',
      action: { op: 'retry', subject: { subjectType: 'account', subjectId: SUBJECT } },
    });
    expect(parse(['parked', '--skip', 'transfer/abc']).command).toEqual({
      kind: 'parked',
      action: { op: 'skip', subject: { subjectType: 'transfer', subjectId: 'abc' } },
    });
    usageError(['parked', '--retry', 'a/b', '--skip', 'a/b'], /not both/);
    usageError(['parked', '--retry', SUBJECT], /<subjectType>\/<subjectId>/);
    usageError(['parked', '--skip', 'account/a/b'], /<subjectType>\/<subjectId>/);
    usageError(['parked', '--mode', 'rebuild'], /parked does not take --mode/);
  });

  it('help: the word, -h, --help; no command at all is a usage error', () => {
    expect(parse(['help']).command).toEqual({ kind: 'help' });
    expect(parse(['-h']).command).toEqual({ kind: 'help' });
    expect(parse(['replay', '--help']).command).toEqual({ kind: 'help' });
    usageError([], /a command is required/);
    usageError(['rewind'], /unknown command "rewind"/);
    usageError(['toString'], /unknown command "toString"/);
  });
});

describe('connection', () => {
  it('defaults to the local projector and a generated token for tenant-dev', () => {
    expect(parse(['status']).connection).toEqual({
      url: DEFAULT_URL,
      token: undefined,
      tenant: 'tenant-dev',
      flags: [],
    });
  });

  it('takes --url over SPINE_URL, and drops a trailing slash', () => {
    expect(parse(['status'], { SPINE_URL: 'http://proj:9000/' }).connection.url).toBe('http://proj:9000');
    expect(parse(['status', '--url', 'https://a.example'], { SPINE_URL: 'http://b' }).connection.url).toBe(
      'https://a.example',
    );
    usageError(['status', '--url', 'nope'], /"nope" is not a URL/);
    usageError(['status', '--url', 'ftp://x'], /not an http\(s\) URL/);
  });

  it('takes --token, then SPINE_TOKEN, then TOKEN; --tenant asks for a generated token', () => {
    const env = { SPINE_TOKEN: 'spine', TOKEN: 'plain' };
    expect(parse(['status', '--token', 'flag'], env).connection.token).toBe('flag');
    expect(parse(['status'], env).connection.token).toBe('spine');
    expect(parse(['status'], { TOKEN: 'plain' }).connection.token).toBe('plain');
    expect(parse(['status', '--tenant', 't2'], env).connection).toMatchObject({ token: undefined, tenant: 't2' });
    usageError(['status', '--token', 'x', '--tenant', 't2'], /--tenant only applies to a generated token/);
  });

  it('keeps the connection flags for suggested commands, never the token itself', () => {
    expect(parse(['status', '--url', 'http://h:1', '--token', 's3cret']).connection.flags).toEqual([
      '--url',
      'http://h:1',
      '--token',
      '<token>',
    ]);
  });
});

describe('rebuildCommandLine', () => {
  it('repeats the preview request as a rebuild signed off with --confirm', () => {
    const request = parse([
      'replay',
      'account-balances',
      '--source',
      'event-log',
      '--from',
      'spine.account.events:0:5,spine.account.events:1:9',
      '--tenant-scope',
      "o'brien co",
      '--batch-size',
      '100',
    ]).command;
    if (request.kind !== 'replay') throw new Error('expected a replay');
    expect(rebuildCommandLine(request.projection, request.request, 'prev-1', ['--url', 'http://h:1'])).toBe(
      'npm run spine -- replay account-balances --mode rebuild --source event-log ' +
        '--from spine.account.events:0:5,spine.account.events:1:9 ' +
        `--tenant-scope 'o'\\''brien co' --batch-size 100 --confirm prev-1 --url http://h:1`,
    );
  });

  it('round-trips: the printed rebuild parses back to the preview body plus confirm', () => {
    const preview = parse(['replay', 'p', '--from', '2026-11-22T14:00:00Z', '--subject', SUBJECT]).command;
    if (preview.kind !== 'replay') throw new Error('expected a replay');
    const line = rebuildCommandLine('p', preview.request, 'prev-2');
    const argv = line.replace('npm run spine -- ', '').split(' ');
    const rebuild = parse(argv).command;
    expect(rebuild.kind === 'replay' && rebuild.request).toEqual({
      ...preview.request,
      mode: 'rebuild',
      confirm: 'prev-2',
    });
  });

  it('quotes only what the shell would split or expand', () => {
    expect(shellQuote('spine.account.events:0:1')).toBe('spine.account.events:0:1');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('$HOME')).toBe("'$HOME'");
  });
});

describe('spine verify arguments', () => {
  it('verifies every tenant by default, or one tenant, against an optional checkpoint and key', () => {
    expect(parse(['verify']).command).toEqual({ kind: 'verify' });
    expect(
      parse(['verify', '--tenant', 't1', '--checkpoint', 'cp.json', '--public-key', 'k.pem', '--json']),
    ).toMatchObject({
      command: { kind: 'verify', tenantId: 't1', checkpointFile: 'cp.json', publicKeyFile: 'k.pem' },
      json: true,
    });
  });

  it.each([
    [['verify', 'x'], /verify takes no arguments/],
    [['verify', '--public-key', 'k.pem'], /give --checkpoint too/],
    [['verify', '--checkpoint', ''], /--checkpoint must not be empty/],
    [['verify', '--mode', 'rebuild'], /verify does not take --mode/],
    [['replay', 'p', '--checkpoint', 'cp.json'], /replay does not take --checkpoint/],
  ])('refuses %j', (argv, message) => usageError(argv, message));
});
