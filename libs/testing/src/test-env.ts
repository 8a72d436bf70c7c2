import { Kafka, logLevel, type Admin } from 'kafkajs';
import { Client, Pool } from 'pg';
import { uniqueName } from './names';
import { waitFor } from './wait';

export function testDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the suite through jest (its global setup provides it)');
  return url;
}

export function testKafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run the suite through jest (its global setup provides it)');
  return brokers.split(',');
}

export function testKafka(clientId = uniqueName('client')): Kafka {
  return new Kafka({ clientId, brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING });
}

/** Deletes a topic and creates it again, empty, with new ids: Kafka's offsets start over on it. */
export async function recreateTopic(admin: Admin, topic: string, numPartitions: number): Promise<void> {
  await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  await waitFor(
    async () => {
      try {
        return await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
      } catch {
        return false; // still marked for deletion
      }
    },
    { timeoutMs: 30_000, message: `topic ${topic} recreated` },
  );
}

/** A PostgreSQL schema of its own for one suite; dropped with everything in it afterwards. */
export class TestSchema {
  private constructor(
    readonly name: string,
    readonly pool: Pool,
    readonly url: string,
  ) {}

  static async create(prefix = 'test', url = testDatabaseUrl()): Promise<TestSchema> {
    const name = uniqueName(prefix);
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${name}"`);
    await admin.end();
    const pool = new Pool({ connectionString: url, options: `-c search_path=${name}`, max: 10 });
    // A suite that restarts its PostgreSQL on purpose sees its idle connections die: that is not a test failure.
    pool.on('error', () => undefined);
    return new TestSchema(name, pool, url);
  }

  async drop(): Promise<void> {
    await this.pool.end();
    const admin = new Client({ connectionString: this.url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${this.name}" CASCADE`);
    await admin.end();
  }
}
