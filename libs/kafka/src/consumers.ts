import type { Kafka } from 'kafkajs';
import { KafkajsConsumer } from './kafkajs-consumer';
import type { ConsumerSettings, MessageConsumer } from './message-consumer';
import type { KafkaClientName } from './message-producer';
import { PlatformaticConsumer } from './platformatic-consumer';

/** The consumer adapter a service was configured with. */
export function createMessageConsumer(
  client: KafkaClientName,
  kafka: Kafka,
  connection: { brokers: string[]; clientId: string },
  settings: ConsumerSettings,
): MessageConsumer {
  return client === 'kafkajs' ? new KafkajsConsumer(kafka, settings) : new PlatformaticConsumer(connection, settings);
}
