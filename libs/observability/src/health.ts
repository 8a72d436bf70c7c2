import { Controller, Get, Inject, Module, type DynamicModule, type Type } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TerminusModule, type HealthIndicatorResult } from '@nestjs/terminus';

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/** A readiness check contributed by a capability (database, Kafka ...). */
export abstract class ReadinessCheck {
  abstract check(): PromiseLike<HealthIndicatorResult>;
}

@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[],
  ) {}

  /** The process runs and its event loop answers; says nothing about dependencies (restart signal only). */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Database and Kafka answer: the service can do its work (traffic signal). 503 when any is down. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(this.checks.map((c) => () => c.check()));
  }
}

@Module({})
export class HealthModule {
  /** `checks` are provider classes implementing ReadinessCheck, resolved from the importing application. */
  static forRoot(checks: Type<ReadinessCheck>[]): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false, gracefulShutdownTimeoutMs: 0 })],
      controllers: [HealthController],
      providers: [
        ...checks,
        { provide: READINESS_CHECKS, useFactory: (...instances: ReadinessCheck[]) => instances, inject: checks },
      ],
    };
  }
}
