import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const CORRELATION_HEADER = 'x-correlation-id';

// Caller-supplied ids end up in logs, headers and every event: accept only a bounded, printable token.
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's correlation id when it is acceptable, else a new one. */
export function correlationIdFrom(value: string | string[] | undefined): string {
  const candidate = Array.isArray(value) ? value[0] : value;
  return candidate !== undefined && ACCEPTABLE.test(candidate) ? candidate : randomUUID();
}

/**
 * Settles the correlation id of an incoming HTTP request once, at the earliest point, and writes it back into the
 * request headers so every later reader (the HTTP logger, handlers) sees the same value.
 */
export function settleCorrelationId(headers: IncomingHttpHeaders): string {
  const id = correlationIdFrom(headers[CORRELATION_HEADER]);
  headers[CORRELATION_HEADER] = id;
  return id;
}
