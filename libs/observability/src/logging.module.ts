import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import { CORRELATION_HEADER, settleCorrelationId } from './correlation';

export interface LoggingOptions {
  service: string;
  level: string;
  pretty: boolean;
}

/** Structured JSON logs (pino) with the service name and the request's correlation id on every line. */
@Module({})
export class LoggingModule {
  static forRoot(options: LoggingOptions): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: options.level,
            base: { service: options.service },
            timestamp: () => `,"time":"${new Date().toISOString()}"`,
            messageKey: 'message',
            formatters: { level: (label: string) => ({ level: label }) },
            genReqId: (req: IncomingMessage) => settleCorrelationId(req.headers),
            customAttributeKeys: { reqId: 'correlationId' },
            // Request lines are written by the HTTP shell's onResponse hook, which also sees unmatched routes;
            // pino-http binds the correlation id to every log line written while a request is handled.
            autoLogging: false,
            redact: ['req.headers.authorization', `req.headers["idempotency-key"]`],
            serializers: {
              req: (req: { method: string; url: string; headers: Record<string, string> }) => ({
                method: req.method,
                url: req.url,
                [CORRELATION_HEADER]: req.headers?.[CORRELATION_HEADER],
              }),
            },
            transport: options.pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
          },
        }),
      ],
    };
  }
}
