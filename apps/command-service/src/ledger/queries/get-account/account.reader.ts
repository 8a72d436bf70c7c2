import { Injectable } from '@nestjs/common';
import { SubjectReader } from '@event-spine/commands';
import type { AccountState } from '../../domain/account';
import { LedgerErrors } from '../../domain/ledger.errors';

export interface AccountView {
  accountId: string;
  ownerName: string | null;
  currency: string;
  balance: number;
  status: 'open' | 'closed';
  sequence: number;
}

function view(accountId: string, state: AccountState, sequence: number): AccountView {
  if (state.status === 'none') throw LedgerErrors.accountNotFound(accountId);
  const { ownerName, currency, balance, status } = state;
  return { accountId, ownerName, currency, balance, status, sequence };
}

/** Current and temporal state of an account, for every transport: the platform's subject reader over the ledger. */
@Injectable()
export class AccountReader {
  constructor(private readonly subjects: SubjectReader) {}

  async read(tenantId: string, accountId: string, asOf?: Date): Promise<AccountView> {
    const { state, sequence } = await this.subjects.read<AccountState>(
      tenantId,
      { subjectType: 'account', subjectId: accountId },
      asOf,
    );
    return view(accountId, state, sequence);
  }
}
