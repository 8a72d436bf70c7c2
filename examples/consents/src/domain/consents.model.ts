import { defineDomainModel } from '@event-spine/commands';
import type { CreditCheckEvent, CustomerEvent } from '../contract';
import { evolveCreditCheck, initialCreditCheck, type CreditCheckState } from './credit-check';
import { evolveCustomer, initialCustomer, type CustomerState } from './customer';

/** How the domain's subjects start and change, by subject type: the fold the command side keeps state with. */
export const consentsModel = defineDomainModel<{
  customer: { state: CustomerState; event: CustomerEvent };
  'credit-check': { state: CreditCheckState; event: CreditCheckEvent };
}>({
  customer: { initial: initialCustomer, evolve: evolveCustomer },
  'credit-check': { initial: initialCreditCheck, evolve: evolveCreditCheck },
});
