import { bool, int, oneOf, str, type ConfigOf } from '@event-spine/config';
import { KAFKA_CLIENTS, KAFKA_COMPRESSIONS, type KafkaCompression } from '@event-spine/kafka';
import { DEFAULT_RETRIABLE_BOUND_MS } from '../holdback';

/**
 * gzip unless set: a compressed batch is one buffer to the Kafka client instead of a few dozen per message, so the
 * relay spends less CPU per row (bench/README.md), and Kafka stores and serves fewer bytes. gzip because every
 * consumer can read it with no codec to add; lz4 and snappy cost less still.
 */
export const RELAY_DEFAULT_COMPRESSION: KafkaCompression = 'gzip';
/** Batches of fewer rows go out uncompressed (see CompressionPolicy). */
export const RELAY_DEFAULT_COMPRESSION_FROM = 100;

/** The relay's own variables; a relay service adds them to the common, database and Kafka ones. */
export const relayConfig = {
  // The command service owns the schema of its database; the relay only reads and marks its outbox.
  DATABASE_RUN_MIGRATIONS: bool('apply pending migrations at start-up (the command service owns them)', false),
  RELAY_INSTANCE_ID: str('name of this instance among several relays; empty: <hostname>-<pid>', { default: '' }),
  RELAY_KAFKA_CLIENT: oneOf(
    'Kafka client library the relay publishes with (both keep order, idempotence and the Java partitioning)',
    KAFKA_CLIENTS,
    'platformatic',
  ),
  RELAY_KAFKA_COMPRESSION: oneOf(
    "how the relay compresses its Kafka batches; consumers need the codec: every client has gzip; lz4 and snappy are in the Java client, librdkafka, Go clients and both of this platform's (kafkajs elsewhere needs a codec package)",
    KAFKA_COMPRESSIONS,
    RELAY_DEFAULT_COMPRESSION,
  ),
  RELAY_KAFKA_COMPRESSION_FROM: int(
    'smallest batch (rows) that is compressed: smaller ones, a relay keeping up with a steady load, go out as they are, sooner',
    { default: RELAY_DEFAULT_COMPRESSION_FROM, min: 1, max: 10000 },
  ),
  RELAY_MODE: oneOf(
    'how the relay finds rows: polling the outbox table, or logical replication of it (needs wal_level=logical; one active instance)',
    ['polling', 'logical'] as const,
    'polling',
  ),
  RELAY_LOGICAL_SLOT: str('replication slot and publication of the logical mode; empty: spine_outbox_<schema>', {
    default: '',
  }),
  RELAY_BATCH_SIZE: int('outbox rows published per Kafka batch', { default: 500, min: 1, max: 10000 }),
  RELAY_MAX_IDLE_MS: int('longest pause between polls when idle (a NOTIFY wakes the relay sooner)', {
    default: 100,
    min: 1,
    max: 10000,
  }),
  RELAY_WAIT_FOR_FLUSH: bool(
    'relay commits wait for the WAL flush (a flush between each read and its send); false: a database crash may resend its last rows, uncounted',
    false,
  ),
  RELAY_REBALANCE_MS: int('how often instances renew their heartbeat and share buckets', {
    default: 1000,
    min: 100,
  }),
  RELAY_INSTANCE_TTL_MS: int('an instance silent this long is considered gone', { default: 5000, min: 500 }),
  RELAY_CLEANUP_INTERVAL_MS: int('how often published rows are deleted', { default: 1000, min: 100 }),
  RELAY_CLEANUP_BATCH: int(
    'most published rows one DELETE removes (repeated while full; short, so none holds publishing back)',
    {
      default: 1000,
      min: 100,
    },
  ),
  RELAY_PUBLISHED_RETENTION_MS: int(
    'how long where each event landed on Kafka (partition, offset) is kept for the causality query',
    { default: 3_600_000, min: 1000 },
  ),
  RELAY_RETRIABLE_BOUND_MS: int(
    "how long Kafka may keep refusing a row as retriable before only that row's bucket is held back (a missing topic: at once)",
    { default: DEFAULT_RETRIABLE_BOUND_MS, min: 0, max: 3_600_000 },
  ),
} as const;

/** What the relay module reads: its own variables and the database whose outbox it publishes. */
export type RelayModuleConfig = ConfigOf<typeof relayConfig> & { DATABASE_URL: string; DATABASE_SCHEMA: string };

export const RELAY_CONFIG = Symbol('RELAY_CONFIG');
