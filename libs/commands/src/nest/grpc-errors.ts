import { Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { throwError, type Observable } from 'rxjs';
import { toErrorBody } from '@event-spine/http';
import { correlationIdFrom, CORRELATION_HEADER } from '@event-spine/observability';

const logger = new Logger('GrpcError');

/** The spec's mapping of refusals to gRPC status codes. */
export function grpcStatusFor(httpStatus: number, code: string): GrpcStatus {
  if (code === 'CONCURRENCY_CONFLICT') return GrpcStatus.ABORTED;
  if (httpStatus === 400) return GrpcStatus.INVALID_ARGUMENT;
  if (httpStatus === 401) return GrpcStatus.UNAUTHENTICATED;
  if (httpStatus === 403) return GrpcStatus.PERMISSION_DENIED;
  if (httpStatus === 404) return GrpcStatus.NOT_FOUND;
  if (httpStatus === 409 || httpStatus === 422) return GrpcStatus.FAILED_PRECONDITION;
  if (httpStatus === 429) return GrpcStatus.RESOURCE_EXHAUSTED;
  if (httpStatus === 503) return GrpcStatus.UNAVAILABLE;
  return GrpcStatus.INTERNAL;
}

export interface ErrorShape {
  statusCode: number;
  code: string;
  message: string;
  details?: unknown;
}

/** A gRPC error with the stable code, the field errors and the correlation id as trailers. */
export function toServiceError(shape: ErrorShape, correlationId: string): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set('error-code', shape.code);
  if (shape.details !== undefined) metadata.set('error-details', JSON.stringify(shape.details));
  metadata.set(CORRELATION_HEADER, correlationId);
  return {
    code: grpcStatusFor(shape.statusCode, shape.code),
    details: shape.message,
    message: shape.message,
    metadata,
  };
}

/** Everything thrown by a gRPC handler leaves as a proper gRPC status, never as an unknown error. */
@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter<unknown> {
  catch(error: unknown, host: ArgumentsHost): Observable<never> {
    const metadata = host.switchToRpc().getContext<Metadata>();
    const correlationId = correlationIdFrom(metadata?.get(CORRELATION_HEADER)?.[0]?.toString());
    // The one mapping of errors to status and stable code, shared with HTTP.
    const shape = toErrorBody(error, correlationId);
    if (shape.statusCode >= 500) {
      const err =
        error instanceof Error
          ? { type: error.name, message: error.message, stack: error.stack }
          : { message: String(error) };
      logger.error({ message: 'gRPC call failed', err, correlationId });
    }
    return throwError(() => toServiceError(shape, correlationId));
  }
}
