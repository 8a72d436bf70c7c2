import type { EventCatalog } from '@event-spine/events';
import type { DomainModel } from '../domain-model';
import type { RateLimit } from '../tenant-rate-limit';

/** What a domain gives the platform to run its commands. */
export interface CommandsModuleOptions {
  /** The domain's events: each decided event is stamped with its schema version and routed to its topic. */
  catalog: EventCatalog;
  /** How the domain's subjects start and change: the fold current state is kept with. */
  model: DomainModel;
  /** Isolates deployments on one broker: the outbox rows' topics carry it. */
  topicPrefix: string;
  /** The schema the outbox is in: the relay of that schema listens on its own channel for the wake-up. */
  databaseSchema: string;
  /** Per-tenant command rate (token bucket); absent or 0 per second: no limit. */
  rateLimit?: RateLimit;
  /** Group commit of concurrent commands (see `ExecutorOptions.grouping`); absent: each has its own transaction. */
  grouping?: { maxCommands: number; transactions: number };
}

export const COMMANDS_OPTIONS = Symbol('COMMANDS_OPTIONS');
