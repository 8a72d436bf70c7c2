import { DomainError } from '@event-spine/domain';

/**
 * Given/when/then for pure deciders, without Nest or a database:
 *   spec.given([...past events]).when((state) => decide(command, state)).then([...new events])
 */
export function deciderSpec<S, E extends { eventType: string; payload: unknown }>(
  evolve: (state: S, event: E) => S,
  initial: S,
) {
  return {
    given(past: E[]) {
      const state = past.reduce(evolve, initial);
      return {
        when<R>(decide: (state: S) => R) {
          return {
            then(expected: R): void {
              expect(decide(state)).toEqual(expected);
            },
            thenRefuses(code: string): void {
              let thrown: unknown;
              try {
                decide(state);
              } catch (error) {
                thrown = error;
              }
              expect(thrown).toBeInstanceOf(DomainError);
              expect((thrown as DomainError).code).toBe(code);
            },
          };
        },
        thenState(expected: S): void {
          expect(state).toEqual(expected);
        },
      };
    },
  };
}
