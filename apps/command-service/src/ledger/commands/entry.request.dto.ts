import { ApiProperty } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsAmount } from './validators';

/** Body of deposits and withdrawals. */
export class EntryRequestDto {
  @IsAmount()
  amount!: number;

  @ApiProperty({ required: false, maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  reference?: string;

  @ApiProperty({ required: false, format: 'date-time', description: 'when it happened in the world (backfills)' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'occurredAt must be an ISO-8601 date-time' })
  occurredAt?: string;
}

export class AccountBalanceResponseDto {
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty() sequence!: number;
  @ApiProperty() balance!: number;
}
