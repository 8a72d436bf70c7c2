import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Kafka, type Admin } from 'kafkajs';
import { ReadinessCheck } from '@event-spine/observability';
import { createKafka, ensureTopics, type KafkaSettings } from './kafka-client';

export interface KafkaModuleOptions extends KafkaSettings {
  /** Topics the service needs; created at start-up when missing. */
  topics: string[];
  partitions: number;
  /**
   * Whether the service needs Kafka to do its work. The command service does not (commands keep succeeding while
   * the broker is down; the outbox holds them), so for it an unreachable broker is "degraded", not "down", and
   * start-up does not wait for it.
   */
  required: boolean;
}

export const KAFKA_OPTIONS = Symbol('KAFKA_OPTIONS');

/** One admin connection per service: topic management and the readiness probe. */
@Injectable()
export class KafkaAdmin implements OnApplicationShutdown {
  private readonly logger = new Logger(KafkaAdmin.name);
  readonly admin: Admin;

  constructor(
    kafka: Kafka,
    @Inject(KAFKA_OPTIONS) private readonly options: KafkaModuleOptions,
  ) {
    this.admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 100 } });
  }

  async start(): Promise<void> {
    if (this.options.required) return this.prepare();
    // Not needed to serve: keep trying in the background until the broker answers.
    const attempt = (): void => {
      this.inflight = this.prepare().catch((error: unknown) => {
        if (this.stopped) return;
        this.logger.warn({ message: 'kafka not reachable yet; retrying', error: String(error) });
        this.retryTimer = setTimeout(attempt, 5000);
      });
    };
    attempt();
  }

  private retryTimer?: NodeJS.Timeout;
  private inflight?: Promise<void>;
  private stopped = false;

  private async prepare(): Promise<void> {
    await this.admin.connect();
    if (this.options.topics.length > 0) {
      await ensureTopics(
        this.admin,
        this.options.topics.map((topic) => ({ topic, numPartitions: this.options.partitions })),
      );
      this.logger.log({ message: 'topics ready', topics: this.options.topics });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.admin.disconnect();
    await this.inflight;
  }
}

/** Ready when the cluster answers a metadata request within two seconds. */
@Injectable()
export class KafkaReadinessCheck extends ReadinessCheck {
  constructor(
    private readonly kafkaAdmin: KafkaAdmin,
    private readonly indicator: HealthIndicatorService,
    @Inject(KAFKA_OPTIONS) private readonly options: KafkaModuleOptions,
  ) {
    super();
  }

  async check() {
    const session = this.indicator.check('kafka');
    const result = await session
      .attempt(async () => {
        const cluster = await this.kafkaAdmin.admin.describeCluster();
        return { brokers: cluster.brokers.length };
      })
      .withTimeout(2000);
    if (result.kafka.status === 'down' && !this.options.required) {
      const { status: _down, ...data } = result.kafka;
      return session.degraded({ ...data, note: 'commands still succeed; the outbox holds events until Kafka returns' });
    }
    return result;
  }
}

@Module({})
export class KafkaModule {
  static forRoot(options: KafkaModuleOptions): DynamicModule {
    return {
      module: KafkaModule,
      global: true,
      providers: [
        { provide: KAFKA_OPTIONS, useValue: options },
        { provide: Kafka, useFactory: () => createKafka(options) },
        {
          provide: KafkaAdmin,
          useFactory: async (kafka: Kafka) => {
            const admin = new KafkaAdmin(kafka, options);
            await admin.start();
            return admin;
          },
          inject: [Kafka],
        },
      ],
      exports: [Kafka, KafkaAdmin, KAFKA_OPTIONS],
    };
  }
}
