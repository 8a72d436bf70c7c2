import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ApiError } from '@event-spine/http';

/** `?minSequence=&waitMs=` of a read model's route: wait until a subject's row has applied the caller's write. */
export class ReadYourWritesQueryDto {
  @ApiProperty({ required: false, description: 'wait until the subject has reached this sequence' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'minSequence must be an integer' })
  @Min(1)
  minSequence?: number;

  @ApiProperty({ required: false, description: 'how long to wait for minSequence, in ms' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'waitMs must be an integer' })
  @Min(0)
  @Max(60000)
  waitMs?: number;
}

export interface ReadYourWritesWait {
  /** Names the subject in the refusal: `Customer c-1`. */
  subject: string;
  minSequence?: number;
  waitMs?: number;
  /** The service's cap on waitMs. */
  maxWaitMs: number;
  /** The sequence the read model has applied for the subject (0: nothing yet). */
  applied(): Promise<number>;
  pollMs?: number;
}

/**
 * Read-your-writes over a read model: returns once the subject's applied sequence reaches `minSequence`, or refuses
 * with 503 NOT_YET_PROJECTED (and the sequence reached) when `waitMs` passes first.
 */
export async function waitForSequence(wait: ReadYourWritesWait): Promise<void> {
  if (wait.minSequence === undefined) return;
  const deadline = Date.now() + Math.min(wait.waitMs ?? 0, wait.maxWaitMs);
  for (;;) {
    const applied = await wait.applied();
    if (applied >= wait.minSequence) return;
    if (Date.now() >= deadline) {
      throw new ApiError(503, 'NOT_YET_PROJECTED', `${wait.subject} has not reached sequence ${wait.minSequence} yet`, {
        retryAfterSeconds: 1,
        currentSequence: applied,
      });
    }
    await new Promise((r) => setTimeout(r, wait.pollMs ?? 10));
  }
}
