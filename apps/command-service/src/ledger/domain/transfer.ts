import type { TransferEvent } from '@ledger/contract';

export type TransferState =
  | { status: 'none' }
  | { status: 'requested' | 'completed'; fromAccountId: string; toAccountId: string; amount: number; currency: string };

export const initialTransfer: TransferState = { status: 'none' };

export function evolveTransfer(state: TransferState, event: TransferEvent): TransferState {
  switch (event.eventType) {
    case 'TransferRequested':
      return { status: 'requested', ...event.payload };
    case 'TransferCompleted':
      return state.status === 'none' ? state : { ...state, status: 'completed' };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}
