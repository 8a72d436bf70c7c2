import { createServer } from 'node:http';
import { freePort } from '@event-spine/testing';
import { benchConfig } from '../lib/config';
import { benchToken, Deployment } from '../lib/deployment';
import { closedLoop, HttpClient } from '../lib/http-load';
import { UsageSampler } from '../lib/proc';
import type { Results, ScenarioResult } from '../lib/results';
import { round } from '../lib/stats';

const SCENARIO = '8. Tracing cost';

/** An OTLP/HTTP endpoint that accepts and counts what it is sent, like a collector that keeps up. */
async function otlpSink() {
  const port = await freePort();
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ requests, bytes }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The command path alone at the same closed loop, without and with an OTLP endpoint: what tracing costs. */
async function measure(name: string, env: Record<string, string>) {
  const { concurrencies, warmupMs, levelMs } = benchConfig.commands;
  const concurrency = Math.max(...concurrencies);
  const deployment = await Deployment.create(name);
  try {
    const service = await deployment.start('command-service', env);
    const client = new HttpClient(service.url, await benchToken(), concurrency);
    try {
      await closedLoop(client, concurrency, warmupMs, () => undefined);
      const usage = new UsageSampler([{ name: 'command-service', pid: service.child.pid! }]);
      const o = await closedLoop(client, concurrency, levelMs, () => undefined);
      const cores = usage.stop().processes[0].cores;
      return { rate: round(o.rate), cpuMsPerCommand: round((cores * 1000) / o.rate, 3), failed: o.failed };
    } finally {
      client.close();
    }
  } finally {
    await deployment.destroy();
  }
}

export async function tracingCost(results: Results): Promise<ScenarioResult> {
  const started = performance.now();
  const sink = await otlpSink();
  try {
    const off = await measure('traceoff', {});
    const on = await measure('traceon', { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: '1000' });
    const exported = sink.stats();
    return {
      id: 'tracing',
      title: SCENARIO,
      rows: [
        results.infoRow(
          SCENARIO,
          'HTTP commands/s, tracing off',
          off.rate,
          'cmd/s',
          `no OTEL_EXPORTER_OTLP_ENDPOINT: no tracer registered; ${off.cpuMsPerCommand} CPU-ms per command`,
        ),
        results.infoRow(
          SCENARIO,
          'HTTP commands/s, tracing on (OTLP/HTTP to a local sink)',
          on.rate,
          'cmd/s',
          `${round((on.rate / off.rate) * 100)} % of off; ${on.cpuMsPerCommand} CPU-ms per command; ${exported.requests} exports, ${round(exported.bytes / 1e6, 1)} MB`,
        ),
      ],
      details: { off, on, exported },
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await sink.close();
  }
}
