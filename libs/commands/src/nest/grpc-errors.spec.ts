import { status } from '@grpc/grpc-js';
import { grpcStatusFor, toServiceError } from './grpc-errors';

describe('gRPC status mapping', () => {
  it.each([
    [400, 'VALIDATION_FAILED', status.INVALID_ARGUMENT],
    [401, 'UNAUTHENTICATED', status.UNAUTHENTICATED],
    [403, 'FORBIDDEN', status.PERMISSION_DENIED],
    [404, 'ACCOUNT_NOT_FOUND', status.NOT_FOUND],
    [409, 'INSUFFICIENT_FUNDS', status.FAILED_PRECONDITION],
    [422, 'SAME_ACCOUNT', status.FAILED_PRECONDITION],
    [409, 'CONCURRENCY_CONFLICT', status.ABORTED],
    [429, 'RATE_LIMITED', status.RESOURCE_EXHAUSTED],
    [503, 'SERVICE_UNAVAILABLE', status.UNAVAILABLE],
    [500, 'INTERNAL_ERROR', status.INTERNAL],
  ])('HTTP %i %s is gRPC %i', (http, code, grpc) => {
    expect(grpcStatusFor(http, code)).toBe(grpc);
  });

  it('carries the stable code, the details and the correlation id as trailers', () => {
    const e = toServiceError(
      { statusCode: 400, code: 'VALIDATION_FAILED', message: 'bad', details: [{ field: 'a' }] },
      'c-1',
    );
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details).toBe('bad');
    expect(e.metadata?.get('error-code')).toEqual(['VALIDATION_FAILED']);
    expect(e.metadata?.get('error-details')).toEqual(['[{"field":"a"}]']);
    expect(e.metadata?.get('x-correlation-id')).toEqual(['c-1']);
  });
});
