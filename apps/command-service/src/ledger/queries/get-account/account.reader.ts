import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { readSubjectEvents } from '@event-spine/event-log';
import { ledgerCatalog, type AccountEvent } from '@ledger/contract';
import { evolveAccount, initialAccount, type AccountState } from '../../domain/account';
import { LedgerErrors } from '../../domain/ledger.errors';

export interface AccountView {
  accountId: string;
  ownerName: string;
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

/** Current and temporal state of an account, for every transport. */
@Injectable()
export class AccountReader {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async read(tenantId: string, accountId: string, asOf?: Date): Promise<AccountView> {
    return asOf ? this.asOf(tenantId, accountId, asOf) : this.current(tenantId, accountId);
  }

  private async current(tenantId: string, accountId: string) {
    const rows = await this.db.query<{ state: AccountState; sequence: number }[]>(
      `SELECT state, sequence FROM subject_state WHERE tenant_id = $1 AND subject_type = 'account' AND subject_id = $2`,
      [tenantId, accountId],
    );
    return view(accountId, rows[0]?.state ?? initialAccount, rows[0]?.sequence ?? 0);
  }

  /** Temporal query: the same pure fold the command side keeps state with, over the events known by then. */
  private async asOf(tenantId: string, accountId: string, asOf: Date) {
    const events = await readSubjectEvents(this.db, ledgerCatalog, {
      tenantId,
      subjectType: 'account',
      subjectId: accountId,
      recordedUpTo: asOf,
      limit: 1_000_000,
    });
    const state = events.reduce((s, e) => evolveAccount(s, e as unknown as AccountEvent), initialAccount);
    return view(accountId, state, events.at(-1)?.sequence ?? 0);
  }
}
