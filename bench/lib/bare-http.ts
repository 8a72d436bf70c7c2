import { createHash, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Pool } from 'pg';
import { kafkaHeaders, partitionKey, serializeEnvelope, type EventEnvelope } from '@event-spine/events';

/**
 * B_http's server: a bare Fastify route in its own process that takes `POST /v1/accounts` as the command service does
 * and writes the same four rows an account opening with an Idempotency-Key writes (subject_state, event_log, outbox,
 * idempotency_keys) in one statement, one round trip, autocommitted. No framework, no validation, no authentication,
 * no lock, no idempotency check: the rate a Node.js HTTP service on this machine reaches when all it does is the
 * command's writes. Run as `node -r @swc-node/register bench/lib/bare-http.ts` with DATABASE_URL, DATABASE_SCHEMA,
 * DATABASE_POOL_SIZE and TOPIC; it prints `listening <port>` when it serves.
 */

const WRITE = `WITH
  s AS (INSERT INTO subject_state (tenant_id, subject_type, subject_id, sequence, state, updated_at, head_hash)
        VALUES ($1, 'account', $2, 1, $3, $4, $5)),
  e AS (INSERT INTO event_log (id, tenant_id, space_id, event_type, event_schema_version, subject_type, subject_id,
          actor_id, actor_type, action_invocation_id, payload, sequence, occurred_at, recorded_at, correlation_id,
          causation_id, hash)
        VALUES ($6, $1, $7, 'AccountOpened', 1, 'account', $2, $8, 'user', $9::uuid, $10, 1, $4, $4, $11, $9::text, $5)),
  o AS (INSERT INTO outbox (event_id, topic, message_key, headers, value) VALUES ($6, $12, $13, $14, $15)),
  i AS (INSERT INTO idempotency_keys (tenant_id, key, action_id, request_hash, status_code, body)
        VALUES ($1, $16, 'ledger.open-account', $17, 201, $18))
SELECT 1`;

async function main(): Promise<void> {
  const pool = new Pool({
    connectionString: process.env.DATABASE_URL,
    options: `-c search_path=${process.env.DATABASE_SCHEMA}`,
    max: Number(process.env.DATABASE_POOL_SIZE ?? 8),
  });
  const topic = process.env.TOPIC ?? 'spine.account.events';
  const app = Fastify({ logger: false });
  app.post('/v1/accounts', async (request, reply) => {
    const body = request.body as { accountId?: string; ownerName: string; currency: string };
    const accountId = body.accountId ?? randomUUID();
    const now = new Date().toISOString();
    const envelope: EventEnvelope = {
      id: randomUUID(),
      tenantId: 'bench',
      spaceId: 'space-1',
      eventType: 'AccountOpened',
      eventSchemaVersion: 1,
      subjectType: 'account',
      subjectId: accountId,
      actorId: 'bench-user',
      actorType: 'user',
      actionInvocationId: randomUUID(),
      payload: { accountId, ownerName: body.ownerName, currency: body.currency },
      sequence: 1,
      occurredAt: now,
      recordedAt: now,
      correlationId: randomUUID(),
    };
    envelope.causationId = envelope.actionInvocationId;
    const response = { accountId, sequence: 1, balance: 0 };
    const key = String(request.headers['idempotency-key'] ?? envelope.id);
    await pool.query(WRITE, [
      envelope.tenantId,
      accountId,
      JSON.stringify({ status: 'open', ownerName: body.ownerName, currency: body.currency, balance: 0 }),
      now,
      createHash('sha256').update(serializeEnvelope(envelope)).digest(),
      envelope.id,
      envelope.spaceId,
      envelope.actorId,
      envelope.actionInvocationId,
      JSON.stringify(envelope.payload),
      envelope.correlationId,
      topic,
      partitionKey(envelope),
      JSON.stringify(kafkaHeaders(envelope)),
      serializeEnvelope(envelope),
      key,
      createHash('sha256').update(JSON.stringify(body)).digest('hex'),
      JSON.stringify(response),
    ]);
    return reply.code(201).send(response);
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`listening ${new URL(address).port}\n`);
  const stop = () => void app.close().then(() => pool.end().then(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
