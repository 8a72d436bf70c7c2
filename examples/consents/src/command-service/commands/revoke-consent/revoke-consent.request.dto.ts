import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

export class RevokeConsentRequestDto {
  @ApiProperty({ example: 'customer asked by phone', minLength: 1, maxLength: 500 })
  @IsString()
  @Length(1, 500)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason!: string;
}

export class RevokeConsentResponseDto {
  @ApiProperty() customerId!: string;
  @ApiProperty() sequence!: number;
}
