import { ledgerCatalog } from './ledger.catalog';

describe('the ledger catalog', () => {
  it('upcasts a v1 AccountOpened (stored before the owner field was renamed)', () => {
    const v1 = { eventType: 'AccountOpened', eventSchemaVersion: 1, payload: { owner: 'Ada', currency: 'EUR' } };
    expect(ledgerCatalog.upcast(v1)).toEqual({
      eventType: 'AccountOpened',
      eventSchemaVersion: 2,
      payload: { ownerName: 'Ada', currency: 'EUR' },
    });
  });

  it('puts account and transfer events on their own topics', () => {
    expect(ledgerCatalog.topics()).toEqual([
      'spine.account.events',
      'spine.transfer.events',
      // DataSubjectForgotten: the catalog has personal fields (AccountOpened.ownerName).
      'spine.ledger-data-subject.events',
    ]);
    expect(ledgerCatalog.subjectTypeOf('TransferCompleted')).toBe('transfer');
  });
});
