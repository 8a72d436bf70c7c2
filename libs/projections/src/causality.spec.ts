import { causalStatus, subjectPositionKey, type CausalEventRef, type SubjectPosition } from './causality';

const event = (id: string, subjectId: string, sequence: number, eventType = 'Opened', published = true) =>
  ({
    id,
    tenantId: 't',
    eventType,
    subjectType: 'account',
    subjectId,
    sequence,
    publication: { published },
  }) satisfies CausalEventRef;
const projections = [
  { name: 'balances', handles: ['Opened', 'Deposited'] },
  { name: 'transfers', handles: ['TransferRequested'] },
];
const at = (entries: [string, SubjectPosition][]) =>
  new Map(
    entries.map(([subjectId, p]) => [subjectPositionKey({ tenantId: 't', subjectType: 'account', subjectId }), p]),
  );

describe('causalStatus', () => {
  it('is complete when every event is published and applied where it is handled', () => {
    const status = causalStatus(
      [event('e1', 'a', 1), event('e2', 'b', 3)],
      projections,
      at([
        ['a', { last: 1, parkedReason: null }],
        ['b', { last: 4, parkedReason: null }],
      ]),
    );
    expect(status).toEqual({
      complete: true,
      blocked: false,
      events: [
        {
          id: 'e1',
          projections: [
            { name: 'balances', state: 'applied' },
            { name: 'transfers', state: 'not-handled' },
          ],
        },
        {
          id: 'e2',
          projections: [
            { name: 'balances', state: 'applied' },
            { name: 'transfers', state: 'not-handled' },
          ],
        },
      ],
    });
  });

  it('waits for an event not yet applied, and for one not yet published', () => {
    expect(
      causalStatus([event('e1', 'a', 2)], projections, at([['a', { last: 1, parkedReason: null }]])),
    ).toMatchObject({
      complete: false,
      blocked: false,
      events: [{ projections: [{ state: 'pending' }, { state: 'not-handled' }] }],
    });
    expect(causalStatus([event('e1', 'a', 1)], projections, new Map())).toMatchObject({ complete: false });
    expect(
      causalStatus([event('e1', 'a', 1, 'Opened', false)], projections, at([['a', { last: 1, parkedReason: null }]])),
    ).toMatchObject({ complete: false, blocked: false });
  });

  it('reports a parked subject with its reason, as blocked', () => {
    const status = causalStatus(
      [event('e1', 'a', 3)],
      projections,
      at([['a', { last: 1, parkedReason: 'gap: expected sequence 2, got 3' }]]),
    );
    expect(status).toMatchObject({
      complete: false,
      blocked: true,
      events: [
        {
          projections: [
            { name: 'balances', state: 'parked', reason: 'gap: expected sequence 2, got 3' },
            { state: 'not-handled' },
          ],
        },
      ],
    });
  });

  it('counts an event a projection does not handle as no obstacle', () => {
    expect(causalStatus([event('e1', 'a', 1, 'Closed')], projections, new Map())).toMatchObject({ complete: true });
  });
});
