import type { EventCatalog } from '@event-spine/events';

export interface EventLogHttpModuleOptions {
  /** The domain's events: stored events are read upcast through it, and subject types are checked against it. */
  catalog: EventCatalog;
}

export const EVENT_LOG_CATALOG = Symbol('EVENT_LOG_CATALOG');
