import type { RecordedEvent } from '@event-spine/commands';
import type { CreditCheckEvent, Outcome, Purpose } from '../contract';

export type CreditCheckState =
  | { status: 'none' }
  | {
      status: 'requested' | 'completed';
      customerId: string;
      purpose: Purpose;
      bureau: string;
      consentEventId: string;
      requestedAt: string;
      outcome?: Outcome;
      score?: number;
    };

export const initialCreditCheck: CreditCheckState = { status: 'none' };

export function evolveCreditCheck(state: CreditCheckState, event: RecordedEvent<CreditCheckEvent>): CreditCheckState {
  switch (event.eventType) {
    case 'CreditCheckRequested':
      return { status: 'requested', ...event.payload, requestedAt: event.occurredAt };
    case 'CreditCheckCompleted':
      return state.status === 'none' ? state : { ...state, status: 'completed', ...event.payload };
  }
}
