import { ApiProperty } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';

/** `?asOf=` of a temporal read: the subject as the system knew it then (see `SubjectReader.read`). */
export class AsOfQueryDto {
  @ApiProperty({
    required: false,
    format: 'date-time',
    description: 'answer as the system knew it then: the fold of the events recorded at or before this time',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'asOf must be an ISO-8601 date-time' })
  asOf?: string;
}
