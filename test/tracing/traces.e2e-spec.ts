import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { freePort, waitFor, type ServiceProcess } from '@event-spine/testing';
import { call, Pipeline, token } from '../support/pipeline';

/** A span as OTLP/HTTP JSON carries it (ids in hex). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links?: { traceId: string; spanId: string }[];
  service: string;
}

/** The smallest OTLP/HTTP receiver: keeps every span the services export. */
class OtlpReceiver {
  readonly spans: OtlpSpan[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') this.take(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  private constructor(readonly port: number) {}

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver(await freePort());
    await new Promise<void>((resolve) => receiver.server.listen(receiver.port, '127.0.0.1', resolve));
    return receiver;
  }

  private take(body: string): void {
    const parsed = JSON.parse(body) as {
      resourceSpans: {
        resource: { attributes: { key: string; value: { stringValue?: string } }[] };
        scopeSpans: { spans: Omit<OtlpSpan, 'service'>[] }[];
      }[];
    };
    for (const rs of parsed.resourceSpans) {
      const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
      for (const ss of rs.scopeSpans) for (const span of ss.spans) this.spans.push({ ...span, service });
    }
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('tracing: one command is one connected trace from the HTTP request to the read model', () => {
  let pipeline: Pipeline;
  let receiver: OtlpReceiver;
  let commands: ServiceProcess;
  let projector: ServiceProcess;
  let admin: string;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    pipeline = await Pipeline.create();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`, OTEL_BSP_SCHEDULE_DELAY: '100' };
    commands = await pipeline.start('command-service', otel);
    await pipeline.start('outbox-relay', otel);
    projector = await pipeline.start('projector', { ...otel, COMMAND_SERVICE_URL: commands.url });
    admin = await token();
  });
  afterAll(async () => {
    await pipeline?.stop();
    await receiver?.stop();
  });

  it('links the command, its transaction, the relay’s publish and the projector’s apply through traceparent', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const res = await fetch(`${commands.url}/v1/accounts`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${admin}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${callerSpan}-01`,
      },
      body: JSON.stringify({ ownerName: 'Traced', currency: 'EUR' }),
    });
    expect(res.status).toBe(201);
    const { accountId } = (await res.json()) as { accountId: string };
    const read = await call(projector.url, 'GET', `/v1/accounts/${accountId}?minSequence=1&waitMs=20000`, admin);
    expect(read.status).toBe(200);

    const found = await waitFor(
      () => {
        const command = receiver.spans.find((s) => s.traceId === traceId && s.name === 'command ledger.open-account');
        const transaction = receiver.spans.find((s) => s.traceId === traceId && s.name === 'command transaction');
        const linked = (name: string) =>
          receiver.spans.find(
            (s) => s.name === name && s.links?.some((l) => l.traceId === traceId && l.spanId === transaction?.spanId),
          );
        const publish = linked('relay publish');
        const apply = linked('projector apply');
        return command && transaction && publish && apply && { command, transaction, publish, apply };
      },
      { timeoutMs: 30000, message: 'the spans of one command at the receiver' },
    );
    // The caller's trace continues: the command's span is the child of the caller's, the transaction its child.
    expect(found.command).toMatchObject({ parentSpanId: callerSpan, service: 'command-service', kind: 2 });
    expect(found.transaction.parentSpanId).toBe(found.command.spanId);
    // The relay and the projector reach it by the trace context stored with the outbox row and sent as a Kafka
    // header: their batch spans link to it (one batch serves many commands).
    expect(found.publish).toMatchObject({ service: 'outbox-relay', kind: 4 });
    expect(found.apply).toMatchObject({ service: 'projector', kind: 5 });
  });

  it('traces a replay run', async () => {
    const started = await call(projector.url, 'POST', '/admin/projections/account-balances/replays', admin, {
      mode: 'preview',
      source: 'kafka',
      from: { earliest: true },
    });
    expect(started.status).toBe(202);
    const span = await waitFor(
      () => receiver.spans.find((s) => s.name === 'replay account-balances' && s.service === 'projector'),
      { timeoutMs: 60000, message: 'the replay span' },
    );
    expect(span.parentSpanId ?? '').toBe('');
  });
});
