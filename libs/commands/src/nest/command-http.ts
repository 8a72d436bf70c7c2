import { createParamDecorator, Injectable, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '@event-spine/auth';
import { correlationIdOf } from '@event-spine/http';
import type { CommandDefinition } from '../command-executor';
import { CommandBus } from './command-bus';
import { parseCommandHeaders, type CommandHeaders } from './command-headers';

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
