import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { PURPOSES, type Purpose } from '../../../contract';
import { CUSTOMER_ID, CUSTOMER_ID_MESSAGE } from '../../../shared/params.dto';

export class RequestCreditCheckRequestDto {
  @ApiProperty({ pattern: CUSTOMER_ID.source })
  @Matches(CUSTOMER_ID, { message: CUSTOMER_ID_MESSAGE })
  customerId!: string;

  @ApiProperty({ enum: PURPOSES })
  @IsIn(PURPOSES, { message: `purpose must be one of ${PURPOSES.join(', ')}` })
  purpose!: Purpose;

  @ApiProperty({ example: 'experian', minLength: 1, maxLength: 64 })
  @IsString()
  @Length(1, 64)
  @Matches(/\S/, { message: 'bureau must not be blank' })
  bureau!: string;

  @ApiProperty({ required: false, format: 'uuid', description: 'client-chosen id; generated when absent' })
  @IsOptional()
  @IsUUID('all')
  creditCheckId?: string;
}

export class RequestCreditCheckResponseDto {
  @ApiProperty({ format: 'uuid' }) creditCheckId!: string;
  @ApiProperty() sequence!: number;
  @ApiProperty({ format: 'uuid', description: 'the ConsentGranted event that allowed this pull' })
  consentEventId!: string;
}
