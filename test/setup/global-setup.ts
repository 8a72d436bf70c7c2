// Global setup runs outside Jest's module map, so the lib is imported by path.
import { provideInfrastructure } from '../../libs/testing/src/infrastructure';

// Runs once in Jest's parent process; workers inherit process.env.
export default async function globalSetup(): Promise<void> {
  const g = globalThis as { __spineInfra?: { stop(): Promise<void> } };
  if (g.__spineInfra) return; // the int and e2e projects share one setup
  const infra = await provideInfrastructure();
  process.env.DATABASE_URL = infra.databaseUrl;
  process.env.KAFKA_BROKERS = infra.kafkaBrokers;
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  g.__spineInfra = infra;
  process.stderr.write(`\n[test setup] PostgreSQL and Kafka from: ${infra.source}\n`);
}
