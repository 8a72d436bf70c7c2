import { heartbeatFresh, traceCarrier } from './message-consumer';

describe('heartbeatFresh', () => {
  it('counts a member in until nine tenths of the session timeout after its last answered heartbeat', () => {
    expect(heartbeatFresh(10_000, 6000, 10_000)).toBe(true);
    expect(heartbeatFresh(10_000, 6000, 15_399)).toBe(true);
    expect(heartbeatFresh(10_000, 6000, 15_400)).toBe(false);
    expect(heartbeatFresh(0, 6000, 10_000)).toBe(false);
  });
});

describe('traceCarrier', () => {
  it('carries the traceparent header alone, or nothing', () => {
    const message = { offset: '0', key: null, value: null };
    expect(traceCarrier({ ...message, headers: { traceparent: '00-a-b-01', other: 'x' } })).toEqual({
      traceparent: '00-a-b-01',
    });
    expect(traceCarrier({ ...message, headers: {} })).toBeUndefined();
  });
});
