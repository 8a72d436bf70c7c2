import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { IsCurrency } from '../validators';

export class OpenAccountRequestDto {
  @ApiProperty({ example: 'Ada Lovelace', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @Matches(/\S/, { message: 'ownerName must not be blank' })
  ownerName!: string;

  @ApiProperty({ example: 'EUR', description: 'ISO-4217 code' })
  @IsCurrency()
  currency!: string;

  @ApiProperty({ required: false, format: 'uuid', description: 'client-chosen id; generated when absent' })
  @IsOptional()
  @IsUUID('all')
  accountId?: string;
}

export class OpenAccountResponseDto {
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty() sequence!: number;
}
