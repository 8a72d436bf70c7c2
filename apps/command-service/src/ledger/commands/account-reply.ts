import type { StateView } from '@event-spine/commands';
import type { AccountState } from '../domain/account';

/** `{accountId, sequence, balance}`: the answer to a command on one account. */
export function accountReply(after: StateView, accountId: string, withBalance: boolean) {
  const { state, sequence } = after.get<AccountState>({ subjectType: 'account', subjectId: accountId });
  const balance = state.status === 'none' ? 0 : state.balance;
  return withBalance ? { accountId, sequence, balance } : { accountId, sequence };
}

export const account = (accountId: string) => ({ subjectType: 'account', subjectId: accountId });
