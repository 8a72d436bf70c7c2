import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';

/**
 * Where the suites find PostgreSQL and Kafka, in order of precedence:
 *  1. DATABASE_URL and KAFKA_BROKERS from the environment (CI here sets both);
 *  2. testcontainers, when a container runtime answers and TESTCONTAINERS_DISABLED is not set;
 *  3. the project's own launcher (scripts/infra): the machine's PostgreSQL and a real Kafka broker fetched
 *     from Maven Central.
 */
export interface Infrastructure {
  databaseUrl: string;
  kafkaBrokers: string;
  source: string;
  stop(): Promise<void>;
}

const ROOT = resolve(__dirname, '../../..');

async function containerRuntimeAnswers(): Promise<boolean> {
  if (process.env.TESTCONTAINERS_DISABLED === '1' || process.env.TESTCONTAINERS_DISABLED === 'true') return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function retry<T>(what: string, fn: () => Promise<T>, timeoutMs = 60000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Fails fast, with the variable named, when what the environment points at does not answer. */
export async function verifyInfrastructure(databaseUrl: string, kafkaBrokers: string): Promise<void> {
  await retry(
    `PostgreSQL at DATABASE_URL (${redact(databaseUrl)}) does not answer`,
    async () => {
      const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
    },
    15000,
  );
  await retry(
    `Kafka at KAFKA_BROKERS (${kafkaBrokers}) does not answer`,
    async () => {
      const admin = new Kafka({
        clientId: 'spine-test-setup',
        brokers: kafkaBrokers.split(','),
        logLevel: logLevel.NOTHING,
      }).admin({ retry: { retries: 1 } });
      await admin.connect();
      try {
        await admin.describeCluster();
      } finally {
        await admin.disconnect();
      }
    },
    30000,
  );
}

function redact(url: string): string {
  return url.replace(/:\/\/([^:@/]+):[^@/]+@/, '://$1:***@');
}

export async function provideInfrastructure(): Promise<Infrastructure> {
  const fromEnv = { databaseUrl: process.env.DATABASE_URL, kafkaBrokers: process.env.KAFKA_BROKERS };
  const stops: (() => Promise<void>)[] = [];
  const sources: string[] = [];
  let { databaseUrl, kafkaBrokers } = fromEnv;
  if (databaseUrl) sources.push('DATABASE_URL');
  if (kafkaBrokers) sources.push('KAFKA_BROKERS');

  if ((!databaseUrl || !kafkaBrokers) && (await containerRuntimeAnswers())) {
    if (!databaseUrl) {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const pg = await new PostgreSqlContainer('postgres:15-alpine').start();
      databaseUrl = pg.getConnectionUri();
      stops.push(async () => void (await pg.stop()));
      sources.push('testcontainers postgres');
    }
    if (!kafkaBrokers) {
      const { KafkaContainer } = await import('@testcontainers/kafka');
      // Confluent Platform 7.9 is Apache Kafka 3.9.
      const kafka = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
      kafkaBrokers = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
      stops.push(async () => void (await kafka.stop()));
      sources.push('testcontainers kafka');
    }
  }

  if (!databaseUrl || !kafkaBrokers) {
    const wasRunning = launcherKafkaRunning();
    execFileSync('bash', [resolve(ROOT, 'scripts/infra'), 'up'], { stdio: 'inherit' });
    databaseUrl ??= 'postgres://postgres@127.0.0.1:5432/spine_test';
    kafkaBrokers ??= '127.0.0.1:9092';
    sources.push('scripts/infra (local PostgreSQL, Kafka from Maven Central)');
    if (!wasRunning && process.env.SPINE_KEEP_INFRA !== '1') {
      stops.push(async () => {
        execFileSync('bash', [resolve(ROOT, 'scripts/infra'), 'down'], { stdio: 'inherit' });
      });
    }
  }

  await verifyInfrastructure(databaseUrl, kafkaBrokers);
  return {
    databaseUrl,
    kafkaBrokers,
    source: sources.join(' + '),
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

function launcherKafkaRunning(): boolean {
  try {
    return execFileSync('bash', [resolve(ROOT, 'scripts/infra'), 'status'], { encoding: 'utf8' }).includes(
      'kafka: running',
    );
  } catch {
    return false;
  }
}
