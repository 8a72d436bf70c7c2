import { AdminApi, HttpError, httpErrorFrom, UnreachableError } from './api';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that records the request and answers `status` with `body` (a string is sent as is). */
function fakeFetch(status: number, body: unknown) {
  const calls: Call[] = [];
  const fetch: typeof globalThis.fetch = (url, init) => {
    calls.push({
      url: url instanceof Request ? url.url : url.toString(),
      method: init?.method ?? 'GET',
      headers: init?.headers as Record<string, string>,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return Promise.resolve(new Response(status === 204 ? null : text, { status }));
  };
  return { calls, fetch };
}

const api = (fetch: typeof globalThis.fetch) => new AdminApi({ baseUrl: 'http://proj:3001', token: 'tok', fetch });

describe('AdminApi', () => {
  it('POSTs the replay request as JSON with the bearer token and returns the replay id', async () => {
    const { calls, fetch } = fakeFetch(202, { replayId: 'r-1' });
    const request = { mode: 'preview' as const, source: 'kafka' as const, from: { earliest: true as const } };
    await expect(api(fetch).startReplay('account balances', request)).resolves.toBe('r-1');
    expect(calls).toEqual([
      {
        url: 'http://proj:3001/admin/projections/account%20balances/replays',
        method: 'POST',
        headers: { authorization: 'Bearer tok', accept: 'application/json', 'content-type': 'application/json' },
        body: request,
      },
    ]);
  });

  it('addresses replays, cancels and parked subjects', async () => {
    const { calls, fetch } = fakeFetch(200, { state: 'running', parked: [], projections: [] });
    const client = api(fetch);
    await client.replay('r-1');
    await client.cancel('r-1');
    await client.projections();
    await client.parked();
    await client.release('skip', { subjectType: 'account', subjectId: 'a-1' });
    expect(calls.map((c) => `${c.method} ${c.url.replace('http://proj:3001', '')}`)).toEqual([
      'GET /admin/replays/r-1',
      'POST /admin/replays/r-1/cancel',
      'GET /admin/projections',
      'GET /admin/parked',
      'POST /admin/parked/account/a-1/skip',
    ]);
    expect(calls[0].headers['content-type']).toBeUndefined();
  });

  it('accepts an empty 202 to a cancel', async () => {
    await expect(api(fakeFetch(202, '').fetch).cancel('r-1')).resolves.toBeUndefined();
  });

  it('turns an error answer into an HttpError with its code, message and field errors', async () => {
    const { fetch } = fakeFetch(400, {
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'Request validation failed',
      details: [{ field: 'mode', errors: ['mode must be one of preview, rebuild'] }],
      correlationId: 'c-1',
    });
    const error = await api(fetch)
      .replay('r-1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'Request validation failed',
      fieldErrors: [{ field: 'mode', message: 'mode must be one of preview, rebuild' }],
    });
  });

  it('refuses a 2xx answer without the fields it needs', async () => {
    await expect(api(fakeFetch(202, {}).fetch).startReplay('p', {} as never)).rejects.toThrow(/without a replayId/);
  });

  it('says plainly, with the URL, when the projector cannot be reached', async () => {
    const refused = () =>
      Promise.reject(
        new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }),
      );
    const error = await api(refused as typeof globalThis.fetch)
      .projections()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as Error).message).toMatch(/^cannot reach the projector at http:\/\/proj:3001 \(ECONNREFUSED\)/);
  });
});

describe('httpErrorFrom', () => {
  it('reads errors: [{field, message}] as well as details: [{field, errors}]', () => {
    const error = httpErrorFrom(422, {
      code: 'CONFIRMATION_REQUIRED',
      message: 'a rebuild needs a finished preview',
      errors: [{ field: 'confirm', message: 'preview r-9 is still running' }],
    });
    expect([error.status, error.code, error.message, error.fieldErrors]).toEqual([
      422,
      'CONFIRMATION_REQUIRED',
      'a rebuild needs a finished preview',
      [{ field: 'confirm', message: 'preview r-9 is still running' }],
    ]);
  });

  it('lists object details key by key', () => {
    const error = httpErrorFrom(404, {
      code: 'PROJECTION_NOT_FOUND',
      message: 'no projection named nope',
      details: { projections: ['account-balances', 'tenant-totals'] },
    });
    expect(error.fieldErrors).toEqual([{ field: 'projections', message: '["account-balances","tenant-totals"]' }]);
  });

  it('falls back to HTTP_<status> and the body text when the answer is not the API error shape', () => {
    const error = httpErrorFrom(502, undefined, '<html>Bad Gateway</html>');
    expect([error.code, error.message]).toEqual(['HTTP_502', '<html>Bad Gateway</html>']);
  });
});
