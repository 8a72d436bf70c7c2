import { placements } from './placements';

const row = (eventId: string, topic = 't') => ({ topic, event_id: eventId });

describe('placements', () => {
  it('makes one run per partition of a send, in the order the events were sent', () => {
    const rows = [row('a'), row('b'), row('c'), row('d'), row('e')];
    const landed = [
      { partition: 0, offset: '10' },
      { partition: 1, offset: '7' },
      { partition: 0, offset: '11' },
      { partition: 1, offset: '8' },
      { partition: 0, offset: '12' },
    ];
    expect(placements(rows, landed)).toEqual([
      { topic: 't', partition: 0, firstOffset: '10', eventIds: ['a', 'c', 'e'] },
      { topic: 't', partition: 1, firstOffset: '7', eventIds: ['b', 'd'] },
    ]);
  });

  it('starts a new run where the offsets jump, so every event keeps its own offset', () => {
    const landed = [
      { partition: 0, offset: '10' },
      { partition: 0, offset: '11' },
      { partition: 0, offset: '20' },
      { partition: 0, offset: '21' },
    ];
    expect(placements([row('a'), row('b'), row('c'), row('d')], landed)).toEqual([
      { topic: 't', partition: 0, firstOffset: '10', eventIds: ['a', 'b'] },
      { topic: 't', partition: 0, firstOffset: '20', eventIds: ['c', 'd'] },
    ]);
  });

  it('keeps topics apart even on the same partition number', () => {
    const landed = [
      { partition: 0, offset: '5' },
      { partition: 0, offset: '6' },
    ];
    expect(placements([row('a', 'x'), row('b', 'y')], landed)).toEqual([
      { topic: 'x', partition: 0, firstOffset: '5', eventIds: ['a'] },
      { topic: 'y', partition: 0, firstOffset: '6', eventIds: ['b'] },
    ]);
  });

  it('leaves out events whose place Kafka did not say', () => {
    const landed = [{ partition: 2, offset: '3' }, undefined, { partition: 2, offset: '4' }];
    expect(placements([row('a'), row('b'), row('c')], landed)).toEqual([
      { topic: 't', partition: 2, firstOffset: '3', eventIds: ['a', 'c'] },
    ]);
  });

  it('puts an offset beyond exact numbers in a run of its own', () => {
    const landed = [
      { partition: 0, offset: '9007199254740993' },
      { partition: 0, offset: '9007199254740994' },
    ];
    expect(placements([row('a'), row('b')], landed).map((p) => p.eventIds)).toEqual([['a'], ['b']]);
  });
});
