import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ReadinessCheck } from '@event-spine/observability';

/** Ready only once the outbox exists: the command service, which owns the schema, has migrated it. */
@Injectable()
export class OutboxReadinessCheck extends ReadinessCheck {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly indicator: HealthIndicatorService,
  ) {
    super();
  }

  check() {
    return this.indicator
      .check('outbox')
      .attempt(async () => {
        // Unqualified: the connection's search_path is the service's schema.
        await this.dataSource.query(`SELECT 1 FROM relay_cursor LIMIT 1`);
      })
      .withTimeout(1000);
  }
}
