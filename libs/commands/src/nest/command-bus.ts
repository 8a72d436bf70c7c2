import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@event-spine/auth';
import { DomainError } from '@event-spine/domain';
import {
  contextFrom,
  inSpan,
  LATENCY_BUCKETS,
  Metrics,
  setTopTenants,
  SpanKind,
  TenantWindow,
} from '@event-spine/observability';
import { CommandExecutor, requestHash, type CommandDefinition, type Outcome } from '../command-executor';
import { TenantRateLimiter } from '../tenant-rate-limit';
import { COMMANDS_OPTIONS, type CommandsModuleOptions } from './commands.options';
import { ApiError } from '@event-spine/http';

export interface Invocation {
  principal: Principal;
  correlationId: string;
  idempotencyKey?: string;
  expectedSequence?: number;
  traceparent?: string;
  tracestate?: string;
}

/** The one entry point of every command, whichever transport it came by (HTTP or gRPC). */
@Injectable()
export class CommandBus {
  private readonly commands;
  private readonly duration;
  private readonly byTenant = new TenantWindow();

  private readonly limiter: TenantRateLimiter;

  constructor(
    private readonly executor: CommandExecutor,
    metrics: Metrics,
    @Inject(COMMANDS_OPTIONS) options: CommandsModuleOptions,
  ) {
    this.limiter = new TenantRateLimiter(options.rateLimit ?? { perSecond: 0, burst: 0 });
    this.commands = metrics.counter('spine_commands_total', 'Commands handled, by action and outcome', [
      'action',
      'outcome',
    ]);
    this.duration = metrics.histogram('spine_command_duration_seconds', 'Command handling time', LATENCY_BUCKETS, [
      'action',
    ]);
    const byTenant = this.byTenant;
    metrics.gauge(
      'spine_tenant_command_rate',
      'Commands per second over the last minute, for the busiest tenants by name and the rest as "other"',
      ['tenant'],
      function () {
        setTopTenants(this, byTenant.rates(), metrics.topTenants);
      },
    );
  }

  /**
   * `requestInput` is the request as the caller sent it (before server-generated ids): what an Idempotency-Key
   * protects.
   */
  async run<Input, Facts>(
    command: CommandDefinition<Input, Facts>,
    input: Input,
    requestInput: unknown,
    invocation: Invocation,
  ): Promise<Outcome> {
    const { principal } = invocation;
    // Refused before any work: a tenant over its rate cannot take the database from the others.
    const wait = this.limiter.take(principal.tenantId);
    if (wait > 0) {
      this.commands.inc({ action: command.actionId, outcome: 'RATE_LIMITED' });
      throw new ApiError(429, 'RATE_LIMITED', `Tenant ${principal.tenantId} is over its command rate; slow down`, {
        retryAfterSeconds: Math.ceil(wait),
      });
    }
    const stop = this.duration.startTimer({ action: command.actionId });
    this.byTenant.add(principal.tenantId);
    const span = {
      kind: SpanKind.SERVER,
      parent: contextFrom(invocation),
      attributes: {
        'spine.action': command.actionId,
        'spine.tenant_id': principal.tenantId,
        'spine.correlation_id': invocation.correlationId,
      },
    };
    return inSpan(`command ${command.actionId}`, span, () =>
      this.execute(command, input, requestInput, invocation, stop),
    );
  }

  private async execute<Input, Facts>(
    command: CommandDefinition<Input, Facts>,
    input: Input,
    requestInput: unknown,
    invocation: Invocation,
    stop: () => void,
  ): Promise<Outcome> {
    const { principal } = invocation;
    try {
      const outcome = await this.executor.execute(command, input, {
        tenantId: principal.tenantId,
        spaceId: principal.spaceId,
        actorId: principal.actorId,
        actorType: principal.actorType,
        correlationId: invocation.correlationId,
        expectedSequence: invocation.expectedSequence,
        idempotency: invocation.idempotencyKey
          ? { key: invocation.idempotencyKey, requestHash: requestHash(command.actionId, requestInput) }
          : undefined,
      });
      this.commands.inc({ action: command.actionId, outcome: outcome.replayed ? 'replayed' : 'applied' });
      return outcome;
    } catch (error) {
      this.commands.inc({ action: command.actionId, outcome: error instanceof DomainError ? error.code : 'error' });
      throw error;
    } finally {
      stop();
    }
  }
}
