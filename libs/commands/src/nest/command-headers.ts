import { ApiError } from '@event-spine/http';

/** Idempotency-Key, If-Match and the correlation id, read the same way from HTTP headers and gRPC metadata. */
export interface CommandHeaders {
  correlationId: string;
  idempotencyKey?: string;
  expectedSequence?: number;
  /** W3C trace context of the caller, if it sent one: the command's span continues its trace. */
  traceparent?: string;
  tracestate?: string;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Reads and checks Idempotency-Key, If-Match and the correlation id; 400 with the header named otherwise. */
export function parseCommandHeaders(get: (name: string) => string | undefined, correlationId: string): CommandHeaders {
  const idempotencyKey = get('idempotency-key');
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new ApiError(400, 'INVALID_HEADER', 'Idempotency-Key must be 1 to 255 visible ASCII characters', {
      header: 'Idempotency-Key',
    });
  }
  const ifMatch = get('if-match');
  let expectedSequence: number | undefined;
  if (ifMatch !== undefined) {
    const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(ifMatch.trim());
    if (!match) {
      throw new ApiError(400, 'INVALID_HEADER', 'If-Match must be the subject sequence, a non-negative integer', {
        header: 'If-Match',
      });
    }
    expectedSequence = Number(match[1]);
  }
  // An unreadable traceparent is ignored (W3C Trace Context): the command then starts a trace of its own.
  const traceparent = get('traceparent');
  const tracestate = get('tracestate');
  return { correlationId, idempotencyKey, expectedSequence, traceparent, tracestate };
}
