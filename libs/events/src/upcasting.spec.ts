import { upcast, UnknownEventError } from './upcasting';

describe('upcasting', () => {
  // A v1 AccountOpened as it was stored before the owner field was renamed.
  const v1 = {
    eventType: 'AccountOpened',
    eventSchemaVersion: 1,
    payload: { owner: 'Ada', currency: 'EUR' },
    sequence: 1,
  };

  it('upcasts an older schema version to the current one, keeping everything else', () => {
    expect(upcast(v1)).toEqual({
      eventType: 'AccountOpened',
      eventSchemaVersion: 2,
      payload: { ownerName: 'Ada', currency: 'EUR' },
      sequence: 1,
    });
  });

  it('leaves current versions as they are', () => {
    const current = { eventType: 'FundsDeposited', eventSchemaVersion: 1, payload: { amount: 3 } };
    expect(upcast(current)).toEqual(current);
  });

  it.each([
    ['unknown-type', { eventType: 'MoneyPrinted', eventSchemaVersion: 1, payload: {} }],
    ['unknown-version', { eventType: 'AccountOpened', eventSchemaVersion: 3, payload: {} }],
    ['unknown-version', { eventType: 'AccountOpened', eventSchemaVersion: 0, payload: {} }],
    ['bad-payload', { eventType: 'FundsDeposited', eventSchemaVersion: 1, payload: 'x' }],
  ])('refuses what it cannot read (%s)', (reason, event) => {
    expect(() => upcast(event)).toThrow(UnknownEventError);
    expect(() => upcast(event)).toThrow(expect.objectContaining({ reason }));
  });
});
