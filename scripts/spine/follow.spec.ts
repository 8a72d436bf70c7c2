import { HttpError, UnreachableError, type ReplayStatus } from './api';
import { followReplay, MAX_POLL_FAILURES, type FollowDeps } from './follow';

const running = (processed: number): ReplayStatus => ({ state: 'running', progress: { processed, total: 10 } });

/** Answers the polls in order; `interruptAfter` polls in, Ctrl-C is pressed. */
function harness(answers: (ReplayStatus | Error)[], interruptAfter = Infinity) {
  const log: string[] = [];
  let polls = 0;
  const deps: FollowDeps = {
    replay: (id) => {
      const answer = answers[Math.min(polls++, answers.length - 1)];
      log.push(`GET ${id}`);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    cancel: (id) => {
      log.push(`CANCEL ${id}`);
      return Promise.resolve(undefined);
    },
    sleep: () => Promise.resolve(),
    interrupted: () => polls >= interruptAfter,
    onStatus: (status) => log.push(`status ${status.state} ${status.progress?.processed ?? '-'}`),
    onNotice: (message) => log.push(`notice ${message.split(';')[0]}`),
  };
  return { deps, log };
}

describe('followReplay', () => {
  it('polls until a final state and returns it', async () => {
    const { deps, log } = harness([running(0), running(5), { state: 'completed', progress: { processed: 10 } }]);
    await expect(followReplay('r-1', deps)).resolves.toMatchObject({ state: 'completed' });
    expect(log).toEqual([
      'GET r-1',
      'status running 0',
      'GET r-1',
      'status running 5',
      'GET r-1',
      'status completed 10',
    ]);
  });

  it('on Ctrl-C cancels once and keeps following to the final state', async () => {
    const { deps, log } = harness([running(1), running(2), running(3), { state: 'cancelled' }], 1);
    await expect(followReplay('r-1', deps)).resolves.toMatchObject({ state: 'cancelled' });
    expect(log).toEqual([
      'GET r-1',
      'status running 1',
      'CANCEL r-1',
      'notice cancelling replay r-1',
      'GET r-1',
      'status running 2',
      'GET r-1',
      'status running 3',
      'GET r-1',
      'status cancelled -',
    ]);
  });

  it('a refused cancel (it finished meanwhile) is reported, and the final state still read', async () => {
    const { deps, log } = harness([running(9), { state: 'completed' }], 1);
    deps.cancel = () => Promise.reject(new HttpError(409, 'REPLAY_FINISHED', 'replay r-1 has finished'));
    await expect(followReplay('r-1', deps)).resolves.toMatchObject({ state: 'completed' });
    expect(log).toContain('notice cancel of replay r-1 not accepted: replay r-1 has finished');
  });

  it('rides out a projector restart, but not forever', async () => {
    const down = new UnreachableError('http://p', 'ECONNREFUSED');
    const { deps } = harness([down, down, { state: 'completed' }]);
    await expect(followReplay('r-1', deps)).resolves.toMatchObject({ state: 'completed' });
    const { deps: gone } = harness(Array.from({ length: MAX_POLL_FAILURES }, () => down));
    await expect(followReplay('r-1', gone)).rejects.toBe(down);
  });

  it('stops at once on an API error', async () => {
    const notFound = new HttpError(404, 'NOT_FOUND', 'no replay r-1');
    await expect(followReplay('r-1', harness([notFound]).deps)).rejects.toBe(notFound);
  });
});
