import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ServiceDirectory } from '../services/service-directory';
import { callService } from '../services/upstream';
import { bucketDelta, histogram, max, parsePrometheusText, quantile, sum, type Buckets } from './prometheus-text';

export const CONSOLE_SAMPLE_MS = Symbol('CONSOLE_SAMPLE_MS');

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/** One scrape of a domain's relay and projector metrics. */
export interface DomainSample {
  t: number;
  backlog?: number;
  oldestUnpublishedAgeSeconds?: number;
  commitToAck: Buckets;
  lag?: number;
  partitions: PartitionLag[];
}

export interface LatencyWindow {
  windowSeconds: number;
  observed: number;
  p50Ms?: number;
  p99Ms?: number;
}

/** How far back the overview keeps samples (charts), and the window of the commit → publish percentiles. */
export const HISTORY_MS = 15 * 60_000;
export const LATENCY_WINDOW_MS = 5 * 60_000;

/**
 * Scrapes every domain's relay and projector `/metrics` in the background (they are the pipeline's figures, not any
 * tenant's data) and keeps the last minutes for the overview's charts and latency percentiles.
 */
@Injectable()
export class OverviewSampler implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('OverviewSampler');
  private readonly samples = new Map<string, DomainSample[]>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly directory: ServiceDirectory,
    @Inject(CONSOLE_SAMPLE_MS) private readonly intervalMs: number,
  ) {}

  onModuleInit(): void {
    const tick = () => {
      this.running = this.sampleAll()
        .catch((error: unknown) => this.logger.warn({ message: 'sampling failed', err: error }))
        .finally(() => {
          this.timer = setTimeout(tick, this.intervalMs);
          this.timer.unref();
        });
    };
    tick();
  }

  async onModuleDestroy(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
    clearTimeout(this.timer);
  }

  history(domain: string): DomainSample[] {
    return this.samples.get(domain) ?? [];
  }

  latest(domain: string): DomainSample | undefined {
    return this.history(domain).at(-1);
  }

  /** Commit → publish (acknowledged by Kafka) percentiles over the last minutes of samples. */
  latency(domain: string, now = Date.now()): LatencyWindow | undefined {
    const history = this.history(domain).filter((s) => s.commitToAck.length > 0);
    const last = history.at(-1);
    if (!last) return undefined;
    const first = history.find((s) => s.t >= now - LATENCY_WINDOW_MS) ?? last;
    // With one sample only, everything since the relay started.
    const delta = first === last ? last.commitToAck : bucketDelta(first.commitToAck, last.commitToAck);
    const ms = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10000) / 10);
    return {
      windowSeconds: first === last ? 0 : Math.round((last.t - first.t) / 1000),
      observed: delta.at(-1)?.[1] ?? 0,
      p50Ms: ms(quantile(0.5, delta)),
      p99Ms: ms(quantile(0.99, delta)),
    };
  }

  async sampleAll(): Promise<void> {
    await Promise.all(this.directory.domains.map((d) => this.sample(d.domain)));
  }

  private async scrape(url: string | undefined) {
    if (!url) return undefined;
    const reply = await callService(`${url}/metrics`, { timeoutMs: 3000 });
    return reply.status === 200 && typeof reply.body === 'string' ? parsePrometheusText(reply.body) : undefined;
  }

  private async sample(domain: string): Promise<void> {
    const relay = await this.scrape(this.directory.service(domain, 'relay')?.url);
    const projector = await this.scrape(this.directory.service(domain, 'projector')?.url);
    const partitions = (projector ?? [])
      .filter((s) => s.name === 'spine_projector_lag')
      .map((s) => ({ topic: s.labels.topic ?? '', partition: Number(s.labels.partition), lag: s.value }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    const sample: DomainSample = {
      t: Date.now(),
      backlog: relay && max(relay, 'spine_relay_backlog'),
      oldestUnpublishedAgeSeconds: relay && max(relay, 'spine_relay_oldest_unpublished_age_seconds'),
      commitToAck: relay ? histogram(relay, 'spine_relay_commit_to_ack_seconds') : [],
      lag: projector && sum(projector, 'spine_projector_lag'),
      partitions,
    };
    const kept = [...this.history(domain), sample].filter((s) => s.t >= sample.t - HISTORY_MS);
    this.samples.set(domain, kept);
  }
}
