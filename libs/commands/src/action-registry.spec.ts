import { ActionConfigurationError, ActionRegistry, assertEmissions } from './action-registry';

describe('action registry', () => {
  it('refuses a mutating action that emits no events', () => {
    const registry = new ActionRegistry();
    expect(() => registry.register({ actionId: 'ledger.sneaky-edit', mutatesDomain: true, emitsEvents: [] })).toThrow(
      new ActionConfigurationError('Action "ledger.sneaky-edit" mutates domain but emits no events.'),
    );
  });

  it('refuses duplicates and non-mutating actions that claim events', () => {
    const registry = new ActionRegistry();
    registry.register({ actionId: 'a', mutatesDomain: true, emitsEvents: ['X'] });
    expect(() => registry.register({ actionId: 'a', mutatesDomain: true, emitsEvents: ['X'] })).toThrow(/twice/);
    expect(() => registry.register({ actionId: 'b', mutatesDomain: false, emitsEvents: ['X'] })).toThrow(
      /claims not to mutate/,
    );
  });

  it('checks at run time that a handler emits only what it declared, and something if it mutates', () => {
    const action = { actionId: 'a', mutatesDomain: true, emitsEvents: ['X'] };
    expect(() => assertEmissions(action, [])).toThrow(/without emitting/);
    expect(() => assertEmissions(action, ['Y'])).toThrow(/undeclared events: Y/);
    expect(() => assertEmissions(action, ['X', 'X'])).not.toThrow();
  });
});
