/** What a service answered (or that it could not be reached), kept as the service said it. */
export interface UpstreamReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const UNREACHABLE = 502;

/** Calls a service; a connection failure or timeout is a 502 `SERVICE_UNREACHABLE` in the platform's error shape. */
export async function callService(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<UpstreamReply> {
  try {
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: init.headers,
      body: init.body,
      signal: AbortSignal.timeout(init.timeoutMs ?? 10000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (metrics, a proxy's HTML page): passed on as text.
    }
    const headers: Record<string, string> = {};
    for (const name of ['etag', 'retry-after', 'x-correlation-id', 'idempotent-replayed']) {
      const value = res.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    return { status: res.status, body, headers };
  } catch (error) {
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : '';
    return {
      status: UNREACHABLE,
      body: {
        statusCode: UNREACHABLE,
        code: 'SERVICE_UNREACHABLE',
        message: `${new URL(url).origin} did not answer${reason ? `: ${reason}` : ''}`,
      },
    };
  }
}
