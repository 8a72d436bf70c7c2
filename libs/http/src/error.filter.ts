import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { correlationIdFrom, CORRELATION_HEADER } from '@event-spine/observability';
import { DomainError, REFUSAL_HTTP_STATUS } from '@event-spine/domain';
import { ApiError, FASTIFY_ERRORS, HTTP_STATUS_CODES, type ErrorBody } from './api-error';

const logger = new Logger('HttpError');

/** Turns anything thrown while serving a request into the one error shape of the API. */
export function toErrorBody(error: unknown, correlationId: string): ErrorBody {
  if (error instanceof ApiError) {
    return {
      statusCode: error.statusCode,
      code: error.code,
      message: error.message,
      details: error.details,
      correlationId,
    };
  }
  if (error instanceof DomainError) {
    const statusCode = REFUSAL_HTTP_STATUS[error.kind];
    return { statusCode, code: error.code, message: error.message, details: error.details, correlationId };
  }
  // Fastify's own request errors (malformed JSON, too large ...) arrive wrapped by Nest, with the original as cause.
  const fastifyCode = fastifyErrorCode(error instanceof HttpException ? error.cause : error);
  if (fastifyCode && FASTIFY_ERRORS[fastifyCode]) return { ...FASTIFY_ERRORS[fastifyCode], correlationId };
  if (error instanceof HttpException) {
    const statusCode = error.getStatus();
    const response = error.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response && typeof response.message === 'string'
        ? response.message
        : error.message;
    return { statusCode, code: HTTP_STATUS_CODES[statusCode] ?? `HTTP_${statusCode}`, message, correlationId };
  }
  const statusCode =
    typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number'
      ? error.statusCode
      : 500;
  if (statusCode >= 400 && statusCode < 500) {
    const message = error instanceof Error ? error.message : 'Bad request';
    return { statusCode, code: HTTP_STATUS_CODES[statusCode] ?? `HTTP_${statusCode}`, message, correlationId };
  }
  return { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error', correlationId };
}

function fastifyErrorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

export function correlationIdOf(request: FastifyRequest): string {
  return correlationIdFrom(request.headers[CORRELATION_HEADER]);
}

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const body = toErrorBody(error, correlationIdOf(request));
  if (body.statusCode >= 500)
    logger.error({ message: 'request failed', err: error, correlationId: body.correlationId });
  // A 503 is a "not yet", a 429 a "slow down": tell clients when to come back (the refusal may say how long).
  if (body.statusCode === 503 || body.statusCode === 429) void reply.header('retry-after', String(retryAfter(body)));
  void reply.header(CORRELATION_HEADER, body.correlationId).status(body.statusCode).send(body);
}

@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const http = host.switchToHttp();
    sendError(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}

/** Whole seconds to wait, at least 1: the refusal's `retryAfterSeconds` when it gives one. */
function retryAfter(body: { details?: unknown }): number {
  const given = (body.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof given === 'number' && Number.isFinite(given) ? Math.max(1, Math.ceil(given)) : 1;
}
