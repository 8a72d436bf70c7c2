import { LATENCY_BUCKETS, type Metrics } from '@event-spine/observability';
import { HOLD_REASONS } from '../holdback';
import type { RelayObserver } from '../outbox-relay';

/** The relay's own metrics (the backlog gauges read the database on scrape and live with the service). */
export function relayMetrics(metrics: Metrics): RelayObserver {
  const published = metrics.counter('spine_relay_published_total', 'Outbox messages acknowledged by Kafka');
  const resent = metrics.counter(
    'spine_relay_resent_after_recovery_total',
    'Messages sent again after a crash or takeover (possible duplicates downstream)',
  );
  const failures = metrics.counter('spine_relay_publish_errors_total', 'Failed relay iterations', ['retriable']);
  const latency = metrics.histogram(
    'spine_relay_commit_to_ack_seconds',
    'Time from the outbox row being written to Kafka acknowledging it',
    LATENCY_BUCKETS,
  );
  const owned = metrics.gauge('spine_relay_buckets_owned', 'Outbox buckets this instance publishes');
  // Labelled by reason, not topic or bucket: the log names the row; the metric says that, and why, stays bounded.
  const held = metrics.gauge(
    'spine_relay_held_buckets',
    'Outbox buckets held back behind a row Kafka does not take (the row is named in the log), by reason',
    ['reason'],
  );
  const heldBack = metrics.counter(
    'spine_relay_held_back_total',
    'Times a bucket was held back behind a row Kafka does not take, by reason',
    ['reason'],
  );
  for (const reason of HOLD_REASONS) {
    held.set({ reason }, 0);
    heldBack.inc({ reason }, 0);
  }
  return {
    published: (n, ages) => {
      published.inc(n);
      for (const age of ages) latency.observe(age);
    },
    resentAfterRecovery: (n) => resent.inc(n),
    publishFailed: (retriable) => failures.inc({ retriable: String(retriable) }),
    bucketsOwned: (n) => owned.set(n),
    heldBack: (reason) => heldBack.inc({ reason }),
    heldBuckets: (counts) => {
      for (const reason of HOLD_REASONS) held.set({ reason }, counts[reason]);
    },
  };
}
