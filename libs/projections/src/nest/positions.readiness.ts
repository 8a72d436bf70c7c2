import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ReadinessCheck } from '@event-spine/observability';

/**
 * Reports offset resets and gaps in the source in the readiness detail. They do not make the projector unready: it
 * has already resumed from the right place; an operator must still see that Kafka's offsets started over.
 */
@Injectable()
export class PositionsReadinessCheck extends ReadinessCheck {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly indicator: HealthIndicatorService,
  ) {
    super();
  }

  check() {
    return this.indicator
      .check('positions')
      .attempt(async () => {
        // Unqualified: the connection's search_path is the projector's schema, whose positions are the live ones.
        const rows: { resets: number; source_gaps: number; last_reset: unknown; last_source_gap: unknown }[] =
          await this.dataSource.query(
            `SELECT coalesce(sum(resets), 0)::int AS resets, coalesce(sum(source_gaps), 0)::int AS source_gaps,
                  (SELECT last_reset || jsonb_build_object('topic', topic, 'partition', partition) FROM projector_offsets
                    WHERE last_reset IS NOT NULL ORDER BY last_reset->>'at' DESC LIMIT 1) AS last_reset,
                  (SELECT last_source_gap || jsonb_build_object('topic', topic, 'partition', partition)
                     FROM projector_offsets WHERE last_source_gap IS NOT NULL
                    ORDER BY last_source_gap->>'at' DESC LIMIT 1) AS last_source_gap
             FROM projector_offsets`,
          );
        const r = rows[0];
        return {
          offsetResets: r.resets,
          sourceGaps: r.source_gaps,
          lastOffsetReset: r.last_reset ?? undefined,
          lastSourceGap: r.last_source_gap ?? undefined,
        };
      })
      .withTimeout(1000);
  }
}
