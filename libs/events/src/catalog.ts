import { defaultTopic } from './topics';
import { UnknownEventError, type Versioned } from './upcasting';

/** JSON Schema (draft 2020-12 subset), as data. */
export type JsonSchema = Record<string, unknown>;

/** Turns a payload of one schema version into the next version's shape. */
export type Upcaster = (payload: Record<string, unknown>) => Record<string, unknown>;

/** What every domain event is: a fact named in the past tense and its payload, discriminated on `eventType`. */
export interface DomainEvent {
  eventType: string;
  payload: unknown;
}

/** One event type of a domain, declared once: everything else (topics, versions, documents) follows from it. */
export interface EventTypeSpec {
  /** The kind of subject whose history the event belongs to; each subject type has its own topic. */
  subjectType: string;
  /** The current schema version, 1 unless the payload's shape has changed since the first events were stored. */
  version?: number;
  /** `upcasters[v]` turns a version-v payload into version v+1, for every v below `version`. */
  upcasters?: Record<number, Upcaster>;
  /** The payload at the current version. */
  schema: JsonSchema;
  description?: string;
}

export interface EventCatalogSpec<E extends DomainEvent> {
  /** The domain's name: the AsyncAPI document's title and the first word of its logs. */
  name: string;
  description?: string;
  events: { [T in E['eventType']]: EventTypeSpec };
  /** The topic of a subject type; `spine.<subjectType>.events` unless the domain says otherwise. */
  topic?: (subjectType: string) => string;
  /**
   * What a subject id of each subject type looks like (a regular expression's source, anchored), where it is not a
   * UUID: `{customer: '[A-Za-z0-9_-]{1,64}'}`. Routes that take a subject id check it with this.
   */
  subjectIds?: Record<string, string>;
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/**
 * A domain's events as the platform needs to know them: which subject type each belongs to, its current schema
 * version and how older stored versions are upcast, its payload schema, and the topic of each subject type. The
 * command executor, the outbox, the event-log readers, the projector, the replay engine, topic creation and the
 * AsyncAPI document all take the catalog, so a new domain edits none of them.
 */
export class EventCatalog<E extends DomainEvent = DomainEvent> {
  readonly name: string;
  readonly description?: string;
  readonly eventTypes: readonly E['eventType'][];
  readonly subjectTypes: readonly string[];
  private readonly specs: ReadonlyMap<string, EventTypeSpec>;
  private readonly topicOf: (subjectType: string) => string;
  private readonly subjectIds: ReadonlyMap<string, RegExp>;

  constructor(spec: EventCatalogSpec<E>) {
    this.name = spec.name;
    this.description = spec.description;
    const entries = Object.entries(spec.events) as [E['eventType'], EventTypeSpec][];
    for (const [type, s] of entries) {
      const version = s.version ?? 1;
      if (!Number.isInteger(version) || version < 1) throw new Error(`${type}: version must be an integer ≥ 1`);
      for (let v = 1; v < version; v++) {
        if (!s.upcasters?.[v]) throw new Error(`${type}: no upcaster from version ${v} to ${v + 1}`);
      }
    }
    this.specs = new Map(entries);
    this.eventTypes = entries.map(([type]) => type);
    this.subjectTypes = [...new Set(entries.map(([, s]) => s.subjectType))];
    this.topicOf = spec.topic ?? defaultTopic;
    this.subjectIds = new Map(
      this.subjectTypes.map((t) => [t, new RegExp(`^(?:${spec.subjectIds?.[t] ?? UUID})$`)] as const),
    );
  }

  /** Whether `subjectId` is a well-formed id of a subject of this type (a UUID unless the catalog says otherwise). */
  isSubjectId(subjectType: string, subjectId: string): boolean {
    return this.subjectIds.get(subjectType)?.test(subjectId) ?? false;
  }

  /** How a subject id of this type is written, for error messages and API documents. */
  subjectIdPattern(subjectType: string): string | undefined {
    return this.subjectIds.get(subjectType)?.source;
  }

  has(eventType: string): eventType is E['eventType'] {
    return this.specs.has(eventType);
  }

  subjectTypeOf(eventType: E['eventType']): string {
    return this.spec(eventType).subjectType;
  }

  versionOf(eventType: E['eventType']): number {
    return this.spec(eventType).version ?? 1;
  }

  upcastersOf(eventType: E['eventType']): Readonly<Record<number, Upcaster>> {
    return this.spec(eventType).upcasters ?? {};
  }

  payloadSchema(eventType: E['eventType']): JsonSchema {
    return this.spec(eventType).schema;
  }

  describe(eventType: E['eventType']): string | undefined {
    return this.spec(eventType).description;
  }

  eventTypesOf(subjectType: string): E['eventType'][] {
    return this.eventTypes.filter((t) => this.subjectTypeOf(t) === subjectType);
  }

  /** The topic of a subject type; `prefix` isolates deployments (test runs) on one broker. */
  topicFor(subjectType: string, prefix = ''): string {
    return `${prefix}${this.topicOf(subjectType)}`;
  }

  topics(prefix = ''): string[] {
    return this.subjectTypes.map((s) => this.topicFor(s, prefix));
  }

  /** The subject type whose topic this is, whatever the deployment's prefix; undefined for a foreign topic. */
  subjectTypeOfTopic(topic: string): string | undefined {
    return this.subjectTypes.find((s) => topic.endsWith(this.topicOf(s)));
  }

  /** The event at its current schema version; throws UnknownEventError for what this catalog cannot read. */
  upcast<V extends Versioned>(event: V): V & E {
    if (!this.has(event.eventType)) {
      throw new UnknownEventError('unknown-type', `unknown event type ${event.eventType}`);
    }
    const current = this.versionOf(event.eventType);
    const version = event.eventSchemaVersion;
    if (!Number.isInteger(version) || version < 1 || version > current) {
      throw new UnknownEventError(
        'unknown-version',
        `${event.eventType} schema version ${version} is not readable (current is ${current})`,
      );
    }
    if (typeof event.payload !== 'object' || event.payload === null || Array.isArray(event.payload)) {
      throw new UnknownEventError('bad-payload', `${event.eventType} payload is not an object`);
    }
    let payload = event.payload as Record<string, unknown>;
    const upcasters = this.upcastersOf(event.eventType);
    for (let v = version; v < current; v++) payload = upcasters[v](payload);
    return { ...event, eventSchemaVersion: current, payload } as V & E;
  }

  /**
   * For readers that serve the log as it is (the feed, a subject's history): events of this catalog come upcast, an
   * event of a type it does not know (another domain's, a newer deployment's) comes as it was stored, never an error.
   */
  read<V extends Versioned>(event: V): V {
    if (!this.has(event.eventType)) return event;
    try {
      return this.upcast(event);
    } catch {
      return event;
    }
  }

  private spec(eventType: string): EventTypeSpec {
    const spec = this.specs.get(eventType);
    if (!spec) throw new UnknownEventError('unknown-type', `unknown event type ${eventType}`);
    return spec;
  }
}

/** Declares a domain's event catalog; `E` is the union of its events (`{ eventType: 'X'; payload: … } | …`). */
export function defineEventCatalog<E extends DomainEvent>(spec: EventCatalogSpec<E>): EventCatalog<E> {
  return new EventCatalog<E>(spec);
}
