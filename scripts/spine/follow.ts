/** Follows a replay to its final state; an interrupt (Ctrl-C) asks the API to cancel it, once, and keeps following. */
import { FINAL_STATES, HttpError, UnreachableError, type ReplayStatus } from './api';

export interface FollowDeps {
  replay(replayId: string): Promise<ReplayStatus>;
  cancel(replayId: string): Promise<unknown>;
  /** Waits `ms`, or less when interrupted. */
  sleep(ms: number): Promise<void>;
  interrupted(): boolean;
  onStatus(status: ReplayStatus): void;
  onNotice(message: string): void;
}

export const POLL_INTERVAL_MS = 500;
/** Consecutive failed polls (projector restarting, network blip) tolerated before giving up. */
export const MAX_POLL_FAILURES = 10;

export async function followReplay(replayId: string, deps: FollowDeps): Promise<ReplayStatus> {
  let cancelRequested = false;
  let failures = 0;
  for (;;) {
    if (deps.interrupted() && !cancelRequested) {
      cancelRequested = true;
      try {
        await deps.cancel(replayId);
        deps.onNotice(`cancelling replay ${replayId}; waiting for it to stop (Ctrl-C again to stop waiting)`);
      } catch (error) {
        // Typically a 409: it finished meanwhile. The next poll tells.
        if (!(error instanceof HttpError || error instanceof UnreachableError)) throw error;
        deps.onNotice(`cancel of replay ${replayId} not accepted: ${error.message}`);
      }
    }
    let status: ReplayStatus;
    try {
      status = await deps.replay(replayId);
      failures = 0;
    } catch (error) {
      if (!(error instanceof UnreachableError) || ++failures >= MAX_POLL_FAILURES) throw error;
      await deps.sleep(POLL_INTERVAL_MS);
      continue;
    }
    deps.onStatus(status);
    if (FINAL_STATES.includes(status.state)) return status;
    await deps.sleep(POLL_INTERVAL_MS);
  }
}
