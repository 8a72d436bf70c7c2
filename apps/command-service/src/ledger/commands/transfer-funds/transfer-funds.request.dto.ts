import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { IsAmount } from '../validators';

export class TransferFundsRequestDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'fromAccountId must be a UUID' })
  fromAccountId!: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'toAccountId must be a UUID' })
  toAccountId!: string;

  @IsAmount()
  amount!: number;

  @ApiProperty({ required: false, format: 'uuid', description: 'client-chosen id; generated when absent' })
  @IsOptional()
  @IsUUID('all', { message: 'transferId must be a UUID' })
  transferId?: string;
}

export class TransferFundsResponseDto {
  @ApiProperty({ format: 'uuid' }) transferId!: string;
  @ApiProperty() correlationId!: string;
}
