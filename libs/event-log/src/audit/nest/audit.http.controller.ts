import type { KeyObject } from 'node:crypto';
import { Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsIn, IsOptional } from 'class-validator';
import type { DataSource } from 'typeorm';
import { AdminOnly, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { ApiError, ApiRoute } from '@event-spine/http';
import { publicKeyPem } from '../checkpoint';
import { ChainsBrokenError, insertCheckpoint, latestCheckpoint, takeCheckpoint } from '../checkpoint.store';
import { verifyChains, type BreakKind } from '../verify';

/** The Ed25519 key that signs checkpoints (`key` absent when AUDIT_SIGNING_KEY is empty). */
export interface AuditSigner {
  key?: KeyObject;
}

export const AUDIT_SIGNER = Symbol('AUDIT_SIGNER');

export class AuditVerifyQueryDto {
  @ApiPropertyOptional({
    enum: ['latest', 'none'],
    default: 'latest',
    description: 'also check the heads and signature of the tenant’s latest stored checkpoint',
  })
  @IsOptional()
  @IsIn(['latest', 'none'], { message: 'checkpoint must be latest or none' })
  checkpoint?: 'latest' | 'none';
}

export class BrokenLinkDto {
  @ApiProperty() tenantId!: string;
  @ApiProperty() subjectType!: string;
  @ApiProperty() subjectId!: string;
  @ApiProperty({ description: 'the first sequence whose event is not what was recorded there' }) sequence!: number;
  @ApiProperty({
    enum: ['payload-changed', 'missing', 'reordered', 'swapped', 'unhashed', 'checkpoint-mismatch'],
  })
  kind!: BreakKind;
  @ApiProperty({ type: String, nullable: true, description: 'the event found at that sequence' })
  eventId!: string | null;
  @ApiProperty() detail!: string;
}

export class CheckpointCheckDto {
  @ApiProperty() tenantId!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty() root!: string;
  @ApiProperty({ description: 'heads in the checkpoint' }) heads!: number;
  @ApiProperty({ description: 'the root is the fold of the listed heads' }) rootMatches!: boolean;
  @ApiProperty({ description: 'the signature verifies with the configured key (else the checkpoint’s own)' })
  signatureValid!: boolean;
  @ApiProperty() keyFromCheckpoint!: boolean;
}

export class AuditVerifyDto {
  @ApiProperty({ description: 'every chain re-computes and every checkpoint head is reached' }) ok!: boolean;
  @ApiProperty({ description: 'events re-hashed' }) checked!: number;
  @ApiProperty() subjects!: number;
  @ApiProperty({ description: 'events written before hashing (no stored hash)' }) unhashed!: number;
  @ApiProperty({ type: [BrokenLinkDto], description: 'the first broken link of each broken subject' })
  broken!: BrokenLinkDto[];
  @ApiProperty() truncated!: boolean;
  @ApiPropertyOptional({ type: CheckpointCheckDto }) checkpoint?: CheckpointCheckDto;
}

export class CheckpointHeadDto {
  @ApiProperty() subjectType!: string;
  @ApiProperty() subjectId!: string;
  @ApiProperty() sequence!: number;
  @ApiProperty({ description: 'chain hash of the event at that sequence, hex' }) hash!: string;
}

export class CheckpointDto {
  @ApiProperty({ enum: ['event-spine-checkpoint/v1'] }) format!: string;
  @ApiProperty() tenantId!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ description: 'sha256 of the canonical {format, tenantId, createdAt, heads}, hex' }) root!: string;
  @ApiProperty({ type: [CheckpointHeadDto], description: 'sorted by subjectType, subjectId' })
  heads!: CheckpointHeadDto[];
  @ApiProperty({ description: 'Ed25519 signature of the root bytes, base64' }) signature!: string;
  @ApiProperty({ description: 'PEM (SPKI)' }) publicKey!: string;
  @ApiProperty({ description: 'sha256 of the public key (DER), hex' }) keyId!: string;
}

/**
 * Tamper evidence of the tenant's event log: re-compute every hash chain, take signed checkpoints of the chains'
 * heads, read the latest one (to export it to an auditor).
 */
@ApiTags('audit')
@AdminOnly()
@Controller('admin/audit')
export class AuditHttpController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(AUDIT_SIGNER) private readonly signer: AuditSigner,
  ) {}

  @Get('verify')
  @ApiRoute({
    summary: 'Re-computes every hash chain of the tenant and names the first broken link of each subject',
    operationId: 'verifyAuditChains',
    role: 'admin',
  })
  @ApiOkResponse({ type: AuditVerifyDto })
  verify(@Query() query: AuditVerifyQueryDto, @CurrentPrincipal() principal: Principal): Promise<AuditVerifyDto> {
    // One snapshot for the whole walk, so a checkpoint and the chains are compared at one point in time.
    return this.db.transaction('REPEATABLE READ', async (tx) => {
      const checkpoint = query.checkpoint === 'none' ? undefined : await latestCheckpoint(tx, principal.tenantId);
      return verifyChains(tx, {
        tenantId: principal.tenantId,
        checkpoint,
        // The configured key, not the one a stored checkpoint carries: a forged row cannot bring its own key.
        publicKey: this.signer.key ? publicKeyPem(this.signer.key) : undefined,
      });
    });
  }

  @Post('checkpoints')
  @HttpCode(201)
  @ApiRoute({
    summary: 'Verifies the tenant’s chains and signs a checkpoint of their heads',
    operationId: 'createAuditCheckpoint',
    role: 'admin',
    errors: { 409: ['AUDIT_SIGNING_KEY_MISSING', 'AUDIT_CHAINS_BROKEN'] },
  })
  @ApiOkResponse({ type: CheckpointDto })
  async create(@CurrentPrincipal() principal: Principal) {
    const key = this.signer.key;
    if (!key) {
      throw new ApiError(
        409,
        'AUDIT_SIGNING_KEY_MISSING',
        'Checkpoints are signed with AUDIT_SIGNING_KEY, which this service is not configured with',
      );
    }
    try {
      // One snapshot: the heads are one cut of the log.
      const { checkpoint } = await this.db.transaction('REPEATABLE READ', (tx) =>
        takeCheckpoint(tx, principal.tenantId, key),
      );
      await insertCheckpoint(this.db, checkpoint);
      return checkpoint;
    } catch (error) {
      if (error instanceof ChainsBrokenError) {
        throw new ApiError(409, 'AUDIT_CHAINS_BROKEN', error.message, {
          broken: error.report.broken,
          checkpoint: error.report.checkpoint,
        });
      }
      throw error;
    }
  }

  @Get('checkpoints/latest')
  @ApiRoute({
    summary: 'The tenant’s latest checkpoint, to export to an auditor',
    operationId: 'getLatestAuditCheckpoint',
    role: 'admin',
    errors: { 404: ['CHECKPOINT_NOT_FOUND'] },
  })
  @ApiOkResponse({ type: CheckpointDto })
  async latest(@CurrentPrincipal() principal: Principal) {
    const checkpoint = await latestCheckpoint(this.db, principal.tenantId);
    if (!checkpoint) throw new ApiError(404, 'CHECKPOINT_NOT_FOUND', 'No checkpoint was taken in this tenant');
    return checkpoint;
  }
}
