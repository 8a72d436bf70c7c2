import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsUUID, Matches } from 'class-validator';
import { PURPOSES, type Purpose } from '../contract';

export const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const CUSTOMER_ID_MESSAGE = 'customerId must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -';

export class CustomerParamsDto {
  @ApiProperty({ pattern: CUSTOMER_ID.source })
  @Matches(CUSTOMER_ID, { message: CUSTOMER_ID_MESSAGE })
  customerId!: string;
}

export class CustomerPurposeParamsDto extends CustomerParamsDto {
  @ApiProperty({ enum: PURPOSES })
  @IsIn(PURPOSES, { message: `purpose must be one of ${PURPOSES.join(', ')}` })
  purpose!: Purpose;
}

export class CreditCheckParamsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'id must be a UUID' })
  id!: string;
}

export { CUSTOMER_ID_MESSAGE };
