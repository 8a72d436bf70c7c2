import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from './private-cluster';

/**
 * Debezium's PostgreSQL connector under Kafka Connect standalone, for the side-by-side scenario
 * (bench/scenarios/debezium.ts). The jars come from Maven Central through bench/debezium/pom.xml, once, into
 * .local/debezium/lib; Connect runs as `java -cp '.local/debezium/lib/*' ConnectStandalone worker connector`.
 */

const ROOT = resolve(__dirname, '../..');
export const DEBEZIUM_VERSION = '3.6.1.Final';
export const CONNECT_VERSION = '3.9.2';
const LIB = resolve(ROOT, '.local/debezium/lib');
const POM = resolve(ROOT, 'bench/debezium/pom.xml');

/** Downloads the jars with Maven unless they are there already; returns the classpath directory. */
export function ensureDebezium(log: (m: string) => void = () => undefined): string {
  const marker = `debezium-connector-postgres-${DEBEZIUM_VERSION}.jar`;
  if (existsSync(LIB) && readdirSync(LIB).includes(marker)) return LIB;
  log(`fetching Debezium ${DEBEZIUM_VERSION} and Kafka Connect ${CONNECT_VERSION} with Maven into ${LIB}`);
  rmSync(LIB, { recursive: true, force: true });
  execFileSync('mvn', ['-B', '-q', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${LIB}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 600_000,
  });
  if (!readdirSync(LIB).includes(marker)) throw new Error(`Maven did not fetch ${marker}`);
  return LIB;
}

const props = (p: Record<string, string | number>) =>
  `${Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;

export interface OutboxConnectorOptions {
  /** The connector's name, its replication slot's and its publication's. */
  name: string;
  database: { host: string; port: number; user: string; dbname: string };
  /** schema.table of the EventRouter-shaped outbox. */
  table: string;
  brokers: string[];
  /** Worker and connector settings on top of the defaults below. */
  worker?: Record<string, string | number>;
  connector?: Record<string, string | number>;
}

/**
 * One Connect standalone worker running one Debezium PostgreSQL connector with the Outbox Event Router, configured
 * as a user would: pgoutput, a filtered publication of the outbox table only, no snapshot (the outbox is a queue),
 * poll interval 10 ms, the topic from the row (`aggregatetype` holds the full topic name), the key from
 * `aggregateid`, the value the `payload` column as it is (StringConverter: the same bytes the relay sends), the
 * producer with linger.ms 0. Offsets in a file, so a stopped worker resumes where it was (the slot keeps the WAL).
 */
export class ConnectStandalone {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private restPort = 0;

  private constructor(
    readonly dir: string,
    private readonly options: OutboxConnectorOptions,
  ) {}

  /** Writes the configuration under `dir` (.local/debezium/runs/<run>); nothing runs yet. */
  static prepare(dir: string, options: OutboxConnectorOptions): ConnectStandalone {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return new ConnectStandalone(dir, options);
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  private writeConfig(): void {
    const o = this.options;
    writeFileSync(
      `${this.dir}/worker.properties`,
      props({
        'bootstrap.servers': o.brokers.join(','),
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'offset.storage.file.filename': `${this.dir}/offsets.dat`,
        'offset.flush.interval.ms': 1000,
        listeners: `http://127.0.0.1:${this.restPort}`,
        // The topics are made by the scenario with the relay's partition count; Connect must not make others.
        'topic.creation.enable': 'false',
        // Every jar is on the classpath and has ServiceLoader manifests: Connect's own advice, a faster start.
        'plugin.discovery': 'service_load',
        'producer.linger.ms': 0,
        'producer.acks': 'all',
        ...o.worker,
      }),
    );
    writeFileSync(
      `${this.dir}/connector.properties`,
      props({
        name: o.name,
        'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        'tasks.max': 1,
        'plugin.name': 'pgoutput',
        'database.hostname': o.database.host,
        'database.port': o.database.port,
        'database.user': o.database.user,
        'database.password': '',
        'database.dbname': o.database.dbname,
        'topic.prefix': o.name,
        'slot.name': o.name,
        'publication.name': `${o.name}_pub`,
        'publication.autocreate.mode': 'filtered',
        'table.include.list': o.table,
        'snapshot.mode': 'no_data',
        'poll.interval.ms': 10,
        'tombstones.on.delete': 'false',
        transforms: 'outbox',
        'transforms.outbox.type': 'io.debezium.transforms.outbox.EventRouter',
        'transforms.outbox.table.field.event.id': 'id',
        'transforms.outbox.table.field.event.key': 'aggregateid',
        'transforms.outbox.table.field.event.payload': 'payload',
        'transforms.outbox.route.by.field': 'aggregatetype',
        'transforms.outbox.route.topic.replacement': '${routedByValue}',
        'transforms.outbox.table.expand.json.payload': 'false',
        ...o.connector,
      }),
    );
    writeFileSync(
      `${this.dir}/log4j.properties`,
      [
        'log4j.rootLogger=INFO, file',
        'log4j.appender.file=org.apache.log4j.FileAppender',
        `log4j.appender.file.File=${this.dir}/connect.log`,
        'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.org.reflections=ERROR',
        '',
      ].join('\n'),
    );
  }

  /** Starts the JVM; resolves once Connect reports the connector's task RUNNING (streaming starts right after). */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.running) throw new Error('Connect already runs');
    this.restPort = await freePort();
    this.writeConfig();
    const child = spawn(
      'java',
      [
        // What bin/connect-standalone.sh (kafka-run-class.sh) runs it with.
        '-Xms256M',
        '-Xmx2G',
        '-server',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:InitiatingHeapOccupancyPercent=35',
        '-XX:+ExplicitGCInvokesConcurrent',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${this.dir}/log4j.properties`,
        '-cp',
        `${LIB}/*`,
        'org.apache.kafka.connect.cli.ConnectStandalone',
        `${this.dir}/worker.properties`,
        `${this.dir}/connector.properties`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], detached: false },
    );
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    this.child = child;
    this.exited = new Promise((done) => child.once('exit', () => done()));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`Connect exited (${child.exitCode}); see ${this.dir}/connect.log. ${stderr}`);
      const state = await this.taskState();
      if (state === 'RUNNING') return;
      if (state === 'FAILED') {
        const trace = await this.taskTrace();
        await this.stop();
        throw new Error(`the Debezium task failed: ${trace.split('\n').slice(0, 4).join(' ')}`);
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`Connect did not run the connector within ${timeoutMs} ms; see ${this.dir}/connect.log`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async status(): Promise<{ tasks?: { state: string; trace?: string }[] } | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.restPort}/connectors/${this.options.name}/status`, {
        signal: AbortSignal.timeout(2000),
      });
      return res.ok ? ((await res.json()) as { tasks?: { state: string; trace?: string }[] }) : undefined;
    } catch {
      return undefined;
    }
  }

  private async taskState(): Promise<string | undefined> {
    return (await this.status())?.tasks?.[0]?.state;
  }

  private async taskTrace(): Promise<string> {
    return (await this.status())?.tasks?.[0]?.trace ?? '';
  }

  /** SIGTERM (Connect stops the task and flushes its offsets), SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>(
      (r) =>
        (timer = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, graceMs)),
    );
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    await this.exited;
  }
}
