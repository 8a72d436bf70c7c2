import { createParamDecorator, Injectable, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '@spine/auth';
import type { CommandDefinition } from '@spine/commands';
import { ApiError, correlationIdOf } from '@spine/http';
import { CommandBus } from '../command-bus';

export interface CommandHeaders {
  correlationId: string;
  idempotencyKey?: string;
  expectedSequence?: number;
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
  return { correlationId, idempotencyKey, expectedSequence };
}

export const RequestHeaders = createParamDecorator((_: unknown, context: ExecutionContext): CommandHeaders => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return parseCommandHeaders(header, correlationIdOf(request));
});

/** Runs a command for an HTTP request and answers with its status, body and ETag. */
@Injectable()
export class CommandHttp {
  constructor(private readonly bus: CommandBus) {}

  async run<Input, Facts>(
    command: CommandDefinition<Input, Facts>,
    input: Input,
    requestInput: unknown,
    call: { principal: Principal; headers: CommandHeaders; res: FastifyReply },
  ): Promise<Record<string, unknown>> {
    const outcome = await this.bus.run(command, input, requestInput, { principal: call.principal, ...call.headers });
    void call.res.status(outcome.statusCode);
    if (outcome.replayed) void call.res.header('idempotent-replayed', 'true');
    if (typeof outcome.body.sequence === 'number') void call.res.header('etag', `"${outcome.body.sequence}"`);
    return outcome.body;
  }
}
