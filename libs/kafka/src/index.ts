export * from './kafka-client';
export * from './kafka.module';
export * from './message-producer';
export * from './kafkajs-producer';
export * from './platformatic-producer';
export * from './producers';
