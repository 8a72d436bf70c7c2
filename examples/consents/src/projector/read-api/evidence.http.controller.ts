import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, Matches, Max, Min } from 'class-validator';
import type { Pool } from 'pg';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { ApiError, ApiRoute } from '@event-spine/http';
import { PROJECTIONS_POOL } from '@event-spine/projections';
import { CHANNELS, OUTCOMES, PURPOSES } from '../../contract';
import { CUSTOMER_ID, CUSTOMER_ID_MESSAGE } from '../../shared/params.dto';
import { withoutNulls } from './consents.http.controller';

const DATE_TIME = { strict: true, strictSeparator: true } as const;

export class EvidenceQueryDto {
  @ApiProperty({ required: false, pattern: CUSTOMER_ID.source })
  @IsOptional()
  @Matches(CUSTOMER_ID, { message: CUSTOMER_ID_MESSAGE })
  customerId?: string;

  @ApiProperty({ required: false, format: 'date-time', description: 'pulls requested at or after this time' })
  @IsOptional()
  @IsISO8601(DATE_TIME, { message: 'from must be an ISO-8601 date-time' })
  from?: string;

  @ApiProperty({ required: false, format: 'date-time', description: 'pulls requested before this time' })
  @IsOptional()
  @IsISO8601(DATE_TIME, { message: 'to must be an ISO-8601 date-time' })
  to?: string;

  @ApiProperty({ required: false, default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiProperty({ required: false, description: 'the nextCursor of the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'after must be a cursor returned as nextCursor' })
  after?: string;
}

export class CreditPullDto {
  @ApiProperty({ format: 'uuid' }) creditCheckId!: string;
  @ApiProperty() customerId!: string;
  @ApiProperty({ enum: PURPOSES }) purpose!: string;
  @ApiProperty() bureau!: string;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiProperty({ format: 'uuid', description: 'the ConsentGranted event that allowed the pull' })
  consentEventId!: string;
  @ApiProperty({ format: 'date-time', required: false, description: 'absent until the grant is projected' })
  consentGrantedAt?: string;
  @ApiProperty({ enum: CHANNELS, required: false }) consentGrantedVia?: string;
  @ApiProperty({ enum: OUTCOMES, required: false }) outcome?: string;
  @ApiProperty({ required: false }) score?: number;
}

export class CreditPullPageDto {
  @ApiProperty({ type: [CreditPullDto] }) pulls!: CreditPullDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as `after` for the next page; null on the last' })
  nextCursor!: string | null;
}

interface Cursor {
  at: string;
  id: string;
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify([c.at, c.id])).toString('base64url');

function decodeCursor(raw: string): Cursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(at))) return { at, id };
  } catch {
    // falls through to the refusal
  }
  throw new ApiError(400, 'VALIDATION_FAILED', 'Request validation failed', [
    { field: 'after', errors: ['after must be a cursor returned as nextCursor'] },
  ]);
}

/** "Show me every credit pull and the consent that preceded it": the evidence read model as a query. */
@ApiTags('read models')
@Authenticated()
@Controller('v1/evidence')
export class EvidenceHttpController {
  constructor(@Inject(PROJECTIONS_POOL) private readonly pool: Pool) {}

  @Get('credit-pulls')
  @ApiRoute({
    summary: 'Every credit pull of the tenant with the consent that allowed it, in request order, a page at a time',
    operationId: 'listCreditPulls',
  })
  @ApiOkResponse({ type: CreditPullPageDto })
  async pulls(@Query() query: EvidenceQueryDto, @CurrentPrincipal() principal: Principal): Promise<CreditPullPageDto> {
    if (query.from && query.to && Date.parse(query.from) > Date.parse(query.to)) {
      throw new ApiError(400, 'VALIDATION_FAILED', 'Request validation failed', [
        { field: 'from', errors: ['from must not be after to'] },
      ]);
    }
    const after = query.after ? decodeCursor(query.after) : undefined;
    const limit = query.limit ?? 100;
    const { rows } = await this.pool.query<CreditPullDto & { cursorAt: string }>(
      `SELECT credit_check_id AS "creditCheckId", customer_id AS "customerId", purpose, bureau,
              requested_at AS "requestedAt", consent_event_id AS "consentEventId",
              consent_granted_at AS "consentGrantedAt", consent_granted_via AS "consentGrantedVia", outcome, score,
              to_char(requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "cursorAt"
         FROM credit_pull_evidence
        WHERE tenant_id = $1
          AND ($2::text IS NULL OR customer_id = $2)
          AND ($3::timestamptz IS NULL OR requested_at >= $3)
          AND ($4::timestamptz IS NULL OR requested_at < $4)
          AND ($5::timestamptz IS NULL OR (requested_at, credit_check_id) > ($5, $6))
        ORDER BY requested_at, credit_check_id
        LIMIT $7`,
      [
        principal.tenantId,
        query.customerId ?? null,
        query.from ?? null,
        query.to ?? null,
        after?.at ?? null,
        after?.id ?? null,
        limit + 1,
      ],
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      pulls: page.map(({ cursorAt: _, ...pull }) => withoutNulls(pull)),
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.cursorAt, id: last.creditCheckId }) : null,
    };
  }
}
