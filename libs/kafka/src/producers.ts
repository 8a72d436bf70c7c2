import type { Kafka } from 'kafkajs';
import type { CompressionPolicy } from './compression';
import { KafkajsProducer } from './kafkajs-producer';
import type { KafkaClientName, MessageProducer } from './message-producer';
import { PlatformaticProducer } from './platformatic-producer';

/** The producer adapter a service was configured with (`KAFKA_CLIENT`). */
export function createMessageProducer(
  client: KafkaClientName,
  kafka: Kafka,
  settings: { brokers: string[]; clientId: string; compression?: CompressionPolicy },
): MessageProducer {
  return client === 'kafkajs' ? new KafkajsProducer(kafka, settings.compression) : new PlatformaticProducer(settings);
}
