import { ledgerActions } from './ledger.actions';

describe('ledger actions', () => {
  it('declares every ledger command as mutating with its events', () => {
    const { registry } = ledgerActions();
    expect(
      registry
        .list()
        .filter((a) => a.mutatesDomain)
        .map((a) => a.actionId),
    ).toEqual([
      'ledger.open-account',
      'ledger.deposit-funds',
      'ledger.withdraw-funds',
      'ledger.reverse-entry',
      'ledger.close-account',
      'ledger.transfer-funds',
    ]);
  });
});
