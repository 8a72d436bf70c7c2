import { ApiProperty } from '@nestjs/swagger';
import { IsString, IsUUID, Length, Matches } from 'class-validator';

export class ReverseEntryRequestDto {
  @ApiProperty({ format: 'uuid', description: 'id of the deposit or withdrawal event to reverse' })
  @IsUUID('all', { message: 'eventId must be a UUID' })
  eventId!: string;

  @ApiProperty({ minLength: 1, maxLength: 500 })
  @IsString()
  @Length(1, 500)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason!: string;
}
