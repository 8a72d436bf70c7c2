import { Logger as NestLogger, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { CORRELATION_HEADER, LATENCY_BUCKETS, Metrics, settleCorrelationId } from '@event-spine/observability';
import { ApiError } from './api-error';
import { ApiErrorFilter, correlationIdOf, sendError } from './error.filter';
import { completeOpenApi } from './openapi';
import { createValidationPipe } from './validation';

const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

export interface HttpAppOptions {
  bodyLimitBytes: number;
  /** Runs before init: e.g. connect a gRPC microservice to the same application (same providers). */
  configure?: (app: NestFastifyApplication) => void;
  openApi?: {
    title: string;
    description: string;
    version: string;
    bearerAuth?: boolean;
    /** Where the service answers, for clients generated from the document. */
    servers: { url: string; description?: string }[];
  };
}

/** A Nest application on Fastify with the platform's conventions: logs, errors, validation, correlation, metrics. */
export async function createHttpApp(
  module: Type | DynamicModule,
  options: HttpAppOptions,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes,
    // Requests still in flight finish; new ones on a closing server get 503 instead of hanging.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ApiErrorFilter());
  // No enableShutdownHooks: given no signals Nest listens to every one and re-raises it after its own close, racing
  // runHttpService's graceful exit. app.close() runs the shutdown hooks by itself.

  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(Metrics);
  const requestDuration = metrics.histogram('http_request_duration_seconds', 'HTTP request duration', LATENCY_BUCKETS, [
    'method',
    'route',
    'status',
  ]);
  fastify.addHook('onRequest', (request, reply, done) => {
    settleCorrelationId(request.headers);
    // The API speaks JSON only: a body of any other type is refused before it is parsed.
    const hasBody =
      Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
    const type = request.headers['content-type'] ?? '';
    if (hasBody && !/^application\/([a-z.+-]*\+)?json\s*(;|$)/i.test(type)) {
      sendError(
        new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body must be application/json'),
        request,
        reply,
      );
      return;
    }
    done();
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header(CORRELATION_HEADER, correlationIdOf(request));
    done(null, payload);
  });
  const requestLogger = new NestLogger('http');
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requestDuration.labels(request.method, route, String(reply.statusCode)).observe(reply.elapsedTime / 1000);
    // Probes and scrapes are frequent and carry nothing worth a log line.
    if (!QUIET_ROUTES.has(route)) {
      const entry = {
        message: 'request completed',
        correlationId: correlationIdOf(request),
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        responseTimeMs: Math.round(reply.elapsedTime * 100) / 100,
      };
      if (reply.statusCode >= 500) requestLogger.error(entry);
      else requestLogger.log(entry);
    }
    done();
  });

  if (options.openApi) {
    let builder = new DocumentBuilder()
      .setTitle(options.openApi.title)
      .setDescription(options.openApi.description)
      .setVersion(options.openApi.version)
      .setOpenAPIVersion('3.1.0');
    if (options.openApi.bearerAuth) {
      builder = builder.addBearerAuth({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'HS256 token with the claims sub, actorType, tenantId, spaceId and roles',
      });
    }
    const document = completeOpenApi(
      SwaggerModule.createDocument(app, builder.build()) as unknown as Record<string, unknown>,
      { servers: options.openApi.servers, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
    );
    SwaggerModule.setup('docs', app, document as never, { jsonDocumentUrl: 'docs/openapi.json' });
  }
  options.configure?.(app);
  await app.init();
  return app;
}

export interface RunOptions {
  name: string;
  host: string;
  port: number;
  shutdownTimeoutMs: number;
  /** Runs after the application closed, before the process exits (e.g. sending the last buffered spans). */
  beforeExit?: () => Promise<void>;
}

/**
 * Listens, and on SIGTERM or SIGINT closes the application gracefully: the server stops accepting, in-flight
 * requests finish, every module's shutdown hook runs (consumers leave their groups, pools close). The process exits
 * 0 when that completes and 1 if it takes longer than the shutdown timeout.
 */
export async function runHttpService(app: NestFastifyApplication, options: RunOptions): Promise<void> {
  const logger = new NestLogger(options.name);
  await app.startAllMicroservices();
  await app.listen({ port: options.port, host: options.host });
  logger.log({ message: `${options.name} listening`, url: `http://${options.host}:${options.port}` });
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log({ message: 'shutting down', signal });
    setTimeout(() => {
      logger.error({ message: 'graceful shutdown timed out; exiting', timeoutMs: options.shutdownTimeoutMs });
      process.exit(1);
    }, options.shutdownTimeoutMs).unref();
    app.close().then(
      async () => {
        logger.log({ message: 'stopped cleanly' });
        await options.beforeExit?.().catch(() => undefined);
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ message: 'error during shutdown', err: error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/** Start-up failures (bad configuration above all) print one clear message and exit non-zero. */
export function exitOnStartupFailure(name: string) {
  return (error: unknown): never => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${name} failed to start: ${message}\n`);
    process.exit(1);
  };
}
