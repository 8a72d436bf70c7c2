import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import { OUTCOMES, type Outcome } from '../../../contract';

export class CompleteCreditCheckRequestDto {
  @ApiProperty({ enum: OUTCOMES })
  @IsIn(OUTCOMES, { message: `outcome must be one of ${OUTCOMES.join(', ')}` })
  outcome!: Outcome;

  @ApiProperty({ minimum: 0, maximum: 1000 })
  @IsInt({ message: 'score must be an integer' })
  @Min(0)
  @Max(1000)
  score!: number;
}

export class CompleteCreditCheckResponseDto {
  @ApiProperty({ format: 'uuid' }) creditCheckId!: string;
  @ApiProperty() sequence!: number;
}
