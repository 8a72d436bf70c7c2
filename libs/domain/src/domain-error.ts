/**
 * A refusal decided by the domain: a stable code, a kind that transports map to their own status (HTTP 404/409/422,
 * gRPC NOT_FOUND/FAILED_PRECONDITION/ABORTED/INVALID_ARGUMENT) and a message for humans.
 */
export type RefusalKind = 'not-found' | 'conflict' | 'unprocessable' | 'concurrency' | 'invalid';

export class DomainError extends Error {
  constructor(
    readonly kind: RefusalKind,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const REFUSAL_HTTP_STATUS: Record<RefusalKind, number> = {
  'not-found': 404,
  conflict: 409,
  concurrency: 409,
  unprocessable: 422,
  invalid: 400,
};
