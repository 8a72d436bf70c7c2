import { Injectable } from '@nestjs/common';
import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { authenticate, TokenVerifier, type Principal } from '@event-spine/auth';
import { ApiError, fieldErrors } from '@event-spine/http';
import { correlationIdFrom, CORRELATION_HEADER } from '@event-spine/observability';
import type { CommandDefinition } from '../command-executor';
import { CommandBus } from './command-bus';
import { parseCommandHeaders, type CommandHeaders } from './command-headers';

type Call = ServerUnaryCall<unknown, unknown>;

const first = (metadata: Metadata, key: string): string | undefined => metadata.get(key)[0]?.toString();

/**
 * The gRPC side of the shell: metadata read exactly as the HTTP headers are, input checked with the same DTO
 * classes, and the very same command definitions run through the same bus.
 */
@Injectable()
export class GrpcCommands {
  constructor(
    private readonly bus: CommandBus,
    private readonly verifier: TokenVerifier,
  ) {}

  async caller(metadata: Metadata): Promise<{ principal: Principal; headers: CommandHeaders }> {
    const principal = await authenticate(first(metadata, 'authorization'), this.verifier);
    const correlationId = correlationIdFrom(first(metadata, CORRELATION_HEADER));
    return { principal, headers: parseCommandHeaders((k) => first(metadata, k), correlationId) };
  }

  /** Validates a message with a DTO class (unknown fields refused), naming fields as the message does. */
  validate<T extends object>(dto: new () => T, value: object, rename: Record<string, string> = {}): T {
    const instance = plainToInstance(dto, value);
    const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    if (errors.length > 0) {
      const details = fieldErrors(errors).map((e) => ({ ...e, field: rename[e.field] ?? e.field }));
      throw new ApiError(400, 'VALIDATION_FAILED', 'Request validation failed', details);
    }
    return instance;
  }

  async run<Input, Facts>(
    command: CommandDefinition<Input, Facts>,
    input: Input,
    requestInput: unknown,
    caller: { principal: Principal; headers: CommandHeaders },
    call: Call,
  ): Promise<Record<string, unknown>> {
    const outcome = await this.bus.run(command, input, requestInput, {
      principal: caller.principal,
      ...caller.headers,
    });
    const metadata = new Metadata();
    metadata.set(CORRELATION_HEADER, caller.headers.correlationId);
    if (outcome.replayed) metadata.set('idempotent-replayed', 'true');
    call.sendMetadata(metadata);
    if (outcome.statusCode >= 400) {
      // A stored first response that was a refusal: the same refusal again, as a gRPC status.
      const body = outcome.body as { code: string; message: string; details?: unknown };
      throw new ApiError(outcome.statusCode, body.code, body.message, body.details);
    }
    return outcome.body;
  }
}
