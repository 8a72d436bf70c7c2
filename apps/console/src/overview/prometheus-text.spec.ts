import { bucketDelta, histogram, parsePrometheusText, quantile, sum } from './prometheus-text';

const text = `# HELP spine_relay_backlog rows
# TYPE spine_relay_backlog gauge
spine_relay_backlog{service="relay"} 42
spine_relay_commit_to_ack_seconds_bucket{le="0.01",service="relay"} 50
spine_relay_commit_to_ack_seconds_bucket{le="0.1",service="relay"} 90
spine_relay_commit_to_ack_seconds_bucket{le="1",service="relay"} 100
spine_relay_commit_to_ack_seconds_bucket{le="+Inf",service="relay"} 100
spine_projector_lag{topic="a \\"b\\"",partition="0",service="p"} 3
spine_projector_lag{topic="a",partition="1",service="p"} -1
`;

describe('Prometheus text for the console overview', () => {
  const samples = parsePrometheusText(text);

  it('parses samples with their labels, escapes included', () => {
    expect(sum(samples, 'spine_relay_backlog')).toBe(42);
    expect(samples.find((s) => s.name === 'spine_projector_lag')?.labels).toEqual({
      topic: 'a "b"',
      partition: '0',
      service: 'p',
    });
    expect(sum(samples, 'spine_projector_lag')).toBe(2);
    expect(sum(samples, 'missing')).toBeUndefined();
  });

  it('interpolates quantiles inside a bucket, as histogram_quantile does', () => {
    const buckets = histogram(samples, 'spine_relay_commit_to_ack_seconds');
    expect(buckets).toEqual([
      [0.01, 50],
      [0.1, 90],
      [1, 100],
      [Infinity, 100],
    ]);
    expect(quantile(0.5, buckets)).toBeCloseTo(0.01);
    expect(quantile(0.7, buckets)).toBeCloseTo(0.01 + 0.09 * 0.5);
    expect(quantile(0.99, buckets)).toBeCloseTo(0.1 + 0.9 * 0.9);
    expect(quantile(0.5, [[Infinity, 0]])).toBeUndefined();
  });

  it('takes the difference between two scrapes, and the later one after a restart', () => {
    const a: [number, number][] = [
      [0.1, 10],
      [Infinity, 10],
    ];
    const b: [number, number][] = [
      [0.1, 15],
      [Infinity, 20],
    ];
    expect(bucketDelta(a, b)).toEqual([
      [0.1, 5],
      [Infinity, 10],
    ]);
    expect(bucketDelta(b, a)).toEqual(a);
  });
});
