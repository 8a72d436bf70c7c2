import { Logger } from '@nestjs/common';
import { Kafka, logLevel, type Admin, type ITopicConfig, type LogEntry } from 'kafkajs';
import { registerKafkajsCodecs } from './compression';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
}

const nestLevel: Record<number, 'error' | 'warn' | 'log' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'log',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs logs routed into the service's structured logger. */
function logCreator() {
  const logger = new Logger('kafkajs');
  return ({ namespace, level, log }: LogEntry) => {
    const { message, ...extra } = log;
    logger[nestLevel[level] ?? 'log']({ message, namespace, ...extra });
  };
}

export function createKafka(settings: KafkaSettings): Kafka {
  registerKafkajsCodecs();
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: logLevel.WARN,
    logCreator,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Creates missing topics and waits until every partition has a leader. On KRaft, a broker whose metadata lags the
 * controller answers UNKNOWN_TOPIC_OR_PARTITION for a topic that was just created, and kafkajs retries only
 * LEADER_NOT_AVAILABLE, so the metadata check is retried here.
 */
export async function ensureTopics(admin: Admin, topics: ITopicConfig[], timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const names = topics.map((t) => t.topic);
  for (;;) {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) {
        await admin.createTopics({
          topics: missing.map((t) => ({ replicationFactor: -1, ...t })),
          waitForLeaders: true,
        });
      }
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: names });
      if (meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics not ready within ${timeoutMs} ms: ${names.join(', ')}`);
    await sleep(200);
  }
}
