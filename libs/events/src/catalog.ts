import { DATA_SUBJECT_FORGOTTEN, type PersonalDataSpec } from './personal-data';
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
  /** Fields of the payload that are personal data, stored sealed with their data subject's key (erasable). */
  personal?: PersonalDataSpec;
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
  /**
   * The subject type of the platform's `DataSubjectForgotten` events, where any event type has personal fields;
   * `<name>-data-subject` unless set. Each domain has its own, so two domains on one broker never share its topic.
   */
  dataSubjectType?: string;
}

/** A data subject's id: what a caller names a person by (a UUID fits too). */
const DATA_SUBJECT_ID = '[A-Za-z0-9_.:@-]{1,128}';

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
  /** The subject type of `DataSubjectForgotten` events; undefined when no event type has personal fields. */
  readonly dataSubjectType?: string;
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
      if (s.personal) checkPersonal(type, s);
    }
    if (entries.some(([, s]) => s.personal)) {
      if (entries.some(([type]) => type === DATA_SUBJECT_FORGOTTEN)) {
        throw new Error(`${DATA_SUBJECT_FORGOTTEN} is the platform's event type; a domain cannot declare it`);
      }
      this.dataSubjectType = spec.dataSubjectType ?? `${spec.name}-data-subject`;
      entries.push([DATA_SUBJECT_FORGOTTEN, forgottenSpec(this.dataSubjectType)]);
    }
    this.specs = new Map(entries);
    this.eventTypes = entries.map(([type]) => type);
    this.subjectTypes = [...new Set(entries.map(([, s]) => s.subjectType))];
    this.topicOf = spec.topic ?? defaultTopic;
    this.subjectIds = new Map(
      this.subjectTypes.map((t) => {
        const pattern = t === this.dataSubjectType ? DATA_SUBJECT_ID : (spec.subjectIds?.[t] ?? UUID);
        return [t, new RegExp(`^(?:${pattern})$`)] as const;
      }),
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

  /** The personal fields of an event type, if it has any. */
  personalDataOf(eventType: string): PersonalDataSpec | undefined {
    return this.specs.get(eventType)?.personal;
  }

  /** Whose personal data an event of this catalog holds: the id its spec names, or undefined for none. */
  dataSubjectOf(event: { eventType: string; subjectId: string; payload: unknown }): string | undefined {
    const personal = this.personalDataOf(event.eventType);
    if (!personal) return undefined;
    if (!personal.dataSubject) return event.subjectId;
    const id = (event.payload as Record<string, unknown>)[personal.dataSubject];
    return typeof id === 'string' ? id : undefined;
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

function checkPersonal(type: string, spec: EventTypeSpec): void {
  const { fields, dataSubject } = spec.personal!;
  const properties = (spec.schema.properties ?? {}) as Record<string, unknown>;
  if (fields.length === 0) throw new Error(`${type}: personal names no field`);
  for (const field of [...fields, ...(dataSubject ? [dataSubject] : [])]) {
    if (!(field in properties)) throw new Error(`${type}: personal field ${field} is not in its payload schema`);
  }
  if (dataSubject && fields.includes(dataSubject)) {
    throw new Error(`${type}: the data subject's id (${dataSubject}) cannot itself be sealed: it finds the key`);
  }
}

function forgottenSpec(subjectType: string): EventTypeSpec {
  const ref = {
    type: 'object',
    properties: { subjectType: { type: 'string' }, subjectId: { type: 'string' } },
    required: ['subjectType', 'subjectId'],
    additionalProperties: false,
  };
  return {
    subjectType,
    description:
      "The data subject's key was destroyed: its personal fields read as null everywhere from now on. `subjects` " +
      'are the subjects whose events held them.',
    schema: {
      type: 'object',
      properties: { subjects: { type: 'array', items: ref }, reason: { type: 'string' } },
      required: ['subjects'],
      additionalProperties: false,
    },
  };
}

/** Declares a domain's event catalog; `E` is the union of its events (`{ eventType: 'X'; payload: … } | …`). */
export function defineEventCatalog<E extends DomainEvent>(spec: EventCatalogSpec<E>): EventCatalog<E> {
  return new EventCatalog<E>(spec);
}
