import type { EventCatalog } from '@event-spine/events';
import type { KafkaClientName } from '@event-spine/kafka';
import type { Projection } from '../projection';
import type { GapRepair, PersonalDataOpener } from '../projection-runner';
import type { CausalEventsReader } from './event-log-causality';

/** How a projector service consumes its domain's topics into its projections. */
export interface ProjectionsModuleOptions {
  /** The domain's events: its topics, upcasting, the subject types parked events may name. */
  catalog: EventCatalog;
  projections: readonly Projection[];
  /** The read models' database and schema (positions are committed there, with the read models). */
  databaseUrl: string;
  schema: string;
  /** Isolates deployments on one broker: topics and the consumer group are prefixed with it. */
  topicPrefix: string;
  /** The consumer group (before the prefix); also names the projector's positions. */
  groupId: string;
  /** Partitions one instance applies at the same time, each in its own transaction. */
  partitionsConcurrently: number;
  /** The Kafka client library behind the consumer (see `MessageConsumer`); every instance of a group uses the same. */
  kafkaClient: KafkaClientName;
  /** How fast a dead instance's partitions move to the others. */
  sessionTimeoutMs: number;
  /** Fills a sequence gap from the canonical event log before parking (see `eventLogRepair`). */
  repair?: GapRepair;
  /** Opens sealed personal fields (see `personalDataOpener`); absent, they are applied as null. */
  openPersonalData?: PersonalDataOpener;
  /** Reads a command's events from the log for `/admin/invocations` (see `eventLogCausality`); absent: 503. */
  causality?: CausalEventsReader;
  /** The longest read-your-writes wait (`waitMs`) the domain's read routes grant; 10 s unless set. */
  readMaxWaitMs?: number;
}

/** The longest read-your-writes wait of a projector's read routes (`waitForSequence`'s `maxWaitMs`). */
export const readMaxWaitMs = (options: ProjectionsModuleOptions): number => options.readMaxWaitMs ?? 10_000;

export const PROJECTIONS_OPTIONS = Symbol('PROJECTIONS_OPTIONS');
/** The projector's pg pool on the read models' schema: positions, parked events, read-model queries. */
export const PROJECTIONS_POOL = Symbol('PROJECTIONS_POOL');

/** Names derived from the options, in one place: the consumer group and topics with the deployment's prefix. */
export function projectionNames(options: ProjectionsModuleOptions): { groupId: string; topics: string[] } {
  return {
    groupId: `${options.topicPrefix}${options.groupId}`,
    topics: options.catalog.topics(options.topicPrefix),
  };
}
