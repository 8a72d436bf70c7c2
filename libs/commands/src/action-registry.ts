/**
 * Every action the service can perform is declared here with what it does to the domain. A mutating action that
 * emits no events would change state without leaving history: that is a configuration error, refused at start-up.
 */
export interface ActionDeclaration {
  actionId: string;
  mutatesDomain: boolean;
  emitsEvents: readonly string[];
}

export class ActionConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ActionConfigurationError';
  }
}

export class ActionRegistry {
  private readonly actions = new Map<string, ActionDeclaration>();

  register<A extends ActionDeclaration>(definition: A): A {
    if (this.actions.has(definition.actionId)) {
      throw new ActionConfigurationError(`Action "${definition.actionId}" is registered twice.`);
    }
    if (definition.mutatesDomain && definition.emitsEvents.length === 0) {
      throw new ActionConfigurationError(`Action "${definition.actionId}" mutates domain but emits no events.`);
    }
    if (!definition.mutatesDomain && definition.emitsEvents.length > 0) {
      throw new ActionConfigurationError(
        `Action "${definition.actionId}" emits events but claims not to mutate domain.`,
      );
    }
    this.actions.set(definition.actionId, definition);
    return definition;
  }

  get(actionId: string): ActionDeclaration | undefined {
    return this.actions.get(actionId);
  }

  list(): ActionDeclaration[] {
    return [...this.actions.values()];
  }
}

/** Checked on every execution: what a handler emits must be what its action declared. */
export function assertEmissions(action: ActionDeclaration, emitted: readonly string[]): void {
  if (action.mutatesDomain && emitted.length === 0) {
    throw new ActionConfigurationError(`Action "${action.actionId}" mutated domain without emitting an event.`);
  }
  const undeclared = emitted.filter((t) => !action.emitsEvents.includes(t));
  if (undeclared.length > 0) {
    throw new ActionConfigurationError(
      `Action "${action.actionId}" emitted undeclared events: ${undeclared.join(', ')}.`,
    );
  }
}
