import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Partitioners, type Producer } from 'kafkajs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { signToken } from '@event-spine/auth';
import { ServiceProcess, testKafka, waitFor } from '@event-spine/testing';
import { call, E2E_SECRET, Pipeline, token } from '../support/pipeline';

/**
 * The operator console in a real browser (Debian's Chromium, headless, driven by playwright-core) against the real
 * ledger services and the console as processes: sign in, the overview, a subject's time travel and correlation
 * chain, a preview and the rebuild that signs it off, a parked subject retried, the audit log, and a reader's 403.
 * Screenshots of every page go to .local/test-output/console (and to docs/console with CONSOLE_DOCS_SCREENSHOTS=1).
 */
const ROOT = resolve(__dirname, '../..');
const OUT = join(ROOT, '.local/test-output/console');
const tenantId = 'tenant-console';

describe('console: the operator console in a browser', () => {
  let pipeline: Pipeline;
  let commands: ServiceProcess;
  let projector: ServiceProcess;
  let consoleApp: ServiceProcess;
  let browser: Browser;
  let page: Page;
  let producer: Producer;
  let admin: string;
  let accountId: string;
  const transferId = randomUUID();

  const shot = async (p: Page, name: string) => {
    const file = join(OUT, `${name}.png`);
    await p.screenshot({ path: file, fullPage: true });
    if (process.env.CONSOLE_DOCS_SCREENSHOTS === '1') copyFileSync(file, join(ROOT, 'docs/console', `${name}.png`));
  };
  const cmd = (path: string, body: unknown) => call(commands.url, 'POST', path, admin, body);
  const signIn = async (p: Page, bearer: string) => {
    await p.goto(`${consoleApp.url}/#/overview`);
    await p.locator('textarea#token').fill(bearer);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByTestId('who').waitFor();
  };

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    const executablePath = execFileSync('bash', [join(ROOT, 'scripts/lib/ensure-chromium')], { encoding: 'utf8' })
      .trim()
      .split(' ')[0];
    pipeline = await Pipeline.create();
    commands = await pipeline.start('command-service');
    const relay = await pipeline.start('outbox-relay');
    projector = await pipeline.start('projector', { COMMAND_SERVICE_URL: commands.url });
    const services = [
      {
        domain: 'ledger',
        services: [
          { name: 'command-service', role: 'command', url: commands.url },
          { name: 'outbox-relay', role: 'relay', url: relay.url },
          { name: 'projector', role: 'projector', url: projector.url },
        ],
      },
    ];
    consoleApp = await ServiceProcess.start('apps/console/src/main.ts', {
      JWT_SECRET: E2E_SECRET,
      CONSOLE_SERVICES: JSON.stringify(services),
      CONSOLE_SAMPLE_MS: '1000',
    });
    await consoleApp.waitReady();
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    admin = await token(tenantId);

    // An account with a history: opened, 100 in, 50 in, 30 out, then 20 transferred to a second account.
    accountId = (
      (await cmd('/v1/accounts', { ownerName: 'Ada Lovelace', currency: 'EUR' })).body as { accountId: string }
    ).accountId;
    const other = (
      (await cmd('/v1/accounts', { ownerName: 'Charles Babbage', currency: 'EUR' })).body as {
        accountId: string;
      }
    ).accountId;
    for (const [path, amount] of [
      ['deposits', 100],
      ['deposits', 50],
      ['withdrawals', 30],
    ] as const) {
      await new Promise((r) => setTimeout(r, 20));
      expect((await cmd(`/v1/accounts/${accountId}/${path}`, { amount })).status).toBe(201);
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(
      (await cmd('/v1/transfers', { transferId, fromAccountId: accountId, toAccountId: other, amount: 20 })).status,
    ).toBe(201);
    // Everything projected before the pages are read (a transfer still being applied would show in a preview).
    await waitFor(
      async () => {
        const res = await call(projector.url, 'GET', '/admin/projections', admin);
        const partitions = (res.body.projections as { partitions: { lag: number }[] }[] | undefined)?.[0]?.partitions;
        const balance = await call(projector.url, 'GET', `/v1/accounts/${accountId}`, admin);
        return Boolean(partitions?.every((p) => p.lag === 0)) && balance.body.sequence === 5;
      },
      { timeoutMs: 60000, message: 'the history projected' },
    );
  }, 300000);

  afterAll(async () => {
    await browser?.close();
    await producer?.disconnect();
    await consoleApp?.stop();
    await pipeline?.stop();
  });

  it('signs in with a bearer token and shows every service and the projections on the overview', async () => {
    await signIn(page, admin);
    const overview = page.getByTestId('overview');
    await overview.getByTestId('service-command-service').getByText('ready').waitFor();
    await overview.getByTestId('service-projector').getByText('ready').waitFor();
    await overview.getByTestId('service-outbox-relay').getByText('ready').waitFor();
    await overview.getByTestId('projection-account-balances').waitFor();
    // The relay's figures come from its metrics, sampled by the console.
    await waitFor(async () => /\d/.test(await overview.getByTestId('relay-backlog').innerText()), {
      message: 'relay backlog shown',
    });
    expect(await page.getByTestId('who').innerText()).toContain(tenantId);
    await shot(page, 'overview');
  });

  it('opens a subject, moves the time slider and sees the balance as known then; follows a correlation', async () => {
    await page.goto(`${consoleApp.url}/#/subjects/ledger/account/${accountId}`);
    await page.getByTestId('event-row').nth(4).waitFor();
    const state = page.getByTestId('state');
    await waitFor(async () => (await state.innerText()).includes('"balance": 100'), {
      message: 'the current balance (100 - 20 transferred + ... = 100)',
    });
    const slider = page.getByTestId('time-slider');
    await slider.focus();
    await page.keyboard.press('Home'); // just after AccountOpened
    await waitFor(async () => (await state.innerText()).includes('"balance": 0'), { message: 'balance at opening' });
    await page.keyboard.press('ArrowRight'); // after the first deposit
    await waitFor(
      async () =>
        (await state.innerText()).includes('"balance": 100') && (await state.innerText()).includes('"sequence": 2'),
      {
        message: 'balance after the first deposit',
      },
    );
    await page.keyboard.press('ArrowRight'); // after the second deposit
    await waitFor(async () => (await state.innerText()).includes('"balance": 150'), {
      message: 'balance after the second deposit',
    });
    // The transfer's events, across subjects, from its correlation id.
    await page.getByTestId('open-chain').nth(4).click();
    await page.getByTestId('chain-event').nth(3).waitFor();
    const chain = await page.getByTestId('chain').innerText();
    expect(chain).toContain('Transfer');
    expect(await page.getByTestId('chain-event').count()).toBe(4);
    await shot(page, 'subject');
  });

  it('shows the state of a subject type without a state route of its own: a transfer', async () => {
    await page.goto(`${consoleApp.url}/#/subjects/ledger/transfer/${transferId}`);
    await page.getByTestId('event-row').nth(1).waitFor();
    const state = page.getByTestId('state');
    await waitFor(async () => (await state.innerText()).includes('"status": "completed"'), {
      message: 'the transfer’s state, from the command side’s generic state route',
    });
    expect(await state.innerText()).toContain('"amount": 20');
    expect(await state.innerText()).toContain('"sequence": 2');
  });

  it('runs a preview, watches it finish with its diff, and signs it off with a rebuild', async () => {
    await page.goto(`${consoleApp.url}/#/projections`);
    await page.locator('select[name=projection]').selectOption('account-balances');
    await page.getByTestId('start-preview').click();
    const preview = page.getByTestId('replay-preview');
    await preview.getByTestId('replay-state').getByText('completed').waitFor({ timeout: 60000 });
    await page.getByTestId('diff').waitFor();
    expect(await page.getByTestId('diff-unchanged').innerText()).toMatch(/\d/);
    const previewId = (await preview.getByTestId('replay-id').innerText()).trim();
    await shot(page, 'replay-preview');

    await page.getByTestId('sign-off').click();
    expect((await page.getByTestId('confirms-preview').innerText()).trim()).toBe(previewId);
    await shot(page, 'replay-signoff');
    await page.getByTestId('confirm').click();
    const rebuild = page.getByTestId('rebuild');
    await rebuild.getByTestId('replay-state').getByText('completed').waitFor({ timeout: 60000 });
    expect(await rebuild.innerText()).toContain(previewId);
    await shot(page, 'replay-rebuild');
  });

  it('lists a parked subject with its reason and events, retries it after a confirmation, and shows the audit log', async () => {
    // A subject the command service never recorded: its gap cannot be repaired, so it parks; its missing event
    // arrives late and waits behind it.
    const parkedId = randomUUID();
    const topic = pipeline.topics[0];
    const publish = (sequence: number, eventType: string, payload: object) =>
      producer.send({
        topic,
        messages: [
          {
            key: `${tenantId}:${parkedId}`,
            value: JSON.stringify({
              id: randomUUID(),
              tenantId,
              spaceId: 'space-1',
              eventType,
              eventSchemaVersion: eventType === 'AccountOpened' ? 2 : 1,
              subjectType: 'account',
              subjectId: parkedId,
              actorId: 'import',
              actorType: 'service',
              actionInvocationId: randomUUID(),
              payload,
              sequence,
              occurredAt: new Date().toISOString(),
              recordedAt: new Date().toISOString(),
              correlationId: `import-${parkedId}`,
            }),
          },
        ],
      });
    const parkedEvents = async () => {
      const res = await call(projector.url, 'GET', '/admin/parked', admin);
      return (res.body.parked as { subjectId: string; events: unknown[] }[]).find((p) => p.subjectId === parkedId)
        ?.events.length;
    };
    await publish(1, 'AccountOpened', { ownerName: 'Imported', currency: 'EUR' });
    await publish(3, 'FundsDeposited', { amount: 30 });
    await waitFor(async () => (await parkedEvents()) === 1, { timeoutMs: 30000, message: 'parked at the gap' });
    await publish(2, 'FundsDeposited', { amount: 20 });
    await waitFor(async () => (await parkedEvents()) === 2, { timeoutMs: 30000, message: 'sequence 2 parked too' });

    await page.goto(`${consoleApp.url}/#/parked`);
    const subject = page.getByTestId('parked-subject').filter({ hasText: parkedId });
    await subject.waitFor();
    expect(await subject.getByTestId('parked-reason').innerText()).toBe('gap: expected sequence 2, got 3');
    await shot(page, 'parked');
    await subject.getByTestId('retry').click();
    await page.getByRole('dialog').waitFor();
    await page.getByTestId('confirm').click();
    const result = page.getByTestId('release-result');
    await result.waitFor();
    expect(await result.innerText()).toContain('"state":"flowing"');
    await subject.waitFor({ state: 'detached' });
    const balance = await call(projector.url, 'GET', `/v1/accounts/${parkedId}`, admin);
    expect(balance.body).toMatchObject({ balance: 50, sequence: 3 });

    await page.goto(`${consoleApp.url}/#/audit`);
    await page.locator('input[name=action]').fill('parked');
    await page.getByRole('button', { name: 'Filter' }).click();
    const entry = page.getByTestId('audit-entry').filter({ hasText: parkedId });
    await entry.first().waitFor();
    expect(await entry.first().innerText()).toContain('parked.retry');
    // Filtered: no replay entries in this view. The unfiltered page may show the entry too, before the filter's answer
    // replaces it: wait for that answer rather than read the table once.
    await waitFor(async () => !(await page.getByTestId('audit-table').innerText()).includes('replay.request'), {
      timeoutMs: 10_000,
      message: 'the audit view filtered to parked actions (no replay.request entries)',
    });
    await shot(page, 'audit');
  });

  it('shows a reader the read pages only, and the 403 the service answered on an admin page', async () => {
    const reader = await signToken(
      { actorId: 'reader-1', actorType: 'user', tenantId, spaceId: 'space-1', roles: [] },
      E2E_SECRET,
      '1h',
    );
    const context = await browser.newContext({ viewport: { width: 1280, height: 700 } });
    const readerPage = await context.newPage();
    await signIn(readerPage, reader);
    expect(await readerPage.locator('header nav').innerText()).not.toContain('Parked');
    await readerPage.getByTestId('projections-forbidden').waitFor();
    await readerPage.goto(`${consoleApp.url}/#/parked`);
    const forbidden = readerPage.getByTestId('forbidden');
    await forbidden.waitFor();
    expect(await forbidden.innerText()).toContain('FORBIDDEN');
    expect(await forbidden.innerText()).toContain('This route needs the admin role');
    await shot(readerPage, 'forbidden');
    // A token that is not valid is refused at sign-in with the API's code and message.
    const fresh = await context.newPage();
    await fresh.goto(`${consoleApp.url}/#/overview`);
    await fresh.locator('textarea#token').fill('not-a-token');
    await fresh.getByRole('button', { name: 'Sign in' }).click();
    expect(await fresh.getByTestId('api-error').innerText()).toContain('UNAUTHENTICATED');
    await context.close();
  });
});
