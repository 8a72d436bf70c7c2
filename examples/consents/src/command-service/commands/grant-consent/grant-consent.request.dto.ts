import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
} from 'class-validator';
import { CHANNELS, PURPOSES, type Channel, type Purpose } from '../../../contract';

export class GrantConsentRequestDto {
  @ApiProperty({ enum: PURPOSES })
  @IsIn(PURPOSES, { message: `purpose must be one of ${PURPOSES.join(', ')}` })
  purpose!: Purpose;

  @ApiProperty({ required: false, type: [String], default: ['standard'], description: 'what the consent covers' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  @Matches(/\S/, { each: true, message: 'scope entries must not be blank' })
  scope?: string[];

  @ApiProperty({ enum: CHANNELS })
  @IsIn(CHANNELS, { message: `grantedVia must be one of ${CHANNELS.join(', ')}` })
  grantedVia!: Channel;

  @ApiProperty({ required: false, format: 'date-time', description: 'when the consent lapses (must be in the future)' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'expiresAt must be an ISO-8601 date-time' })
  expiresAt?: string;
}

export class GrantConsentResponseDto {
  @ApiProperty() customerId!: string;
  @ApiProperty() sequence!: number;
  @ApiProperty({ format: 'uuid', description: 'the ConsentGranted event: what a credit check will name' })
  consentEventId!: string;
}
