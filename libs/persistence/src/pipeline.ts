import pg, { type ClientBase, type FieldDef, type QueryResult, type Submittable } from 'pg';

/** A statement of a pipeline: named ones are parsed and planned once per connection, as `prepared` makes them. */
export interface PipelinedStatement {
  text: string;
  values?: readonly unknown[];
  name?: string;
}

/**
 * Several statements in one round trip: on the extended protocol each is parsed (a named one once per connection),
 * bound and executed, and one Sync ends them all, so the driver writes once and PostgreSQL answers once. PostgreSQL
 * runs them in order, each on its own snapshot under READ COMMITTED; the first error skips every statement after it
 * (a COMMIT among them too: a transaction whose write failed stays open and aborted, for the caller's ROLLBACK).
 * Answers one result per statement, in order.
 */
export function pipeline(client: ClientBase, statements: readonly PipelinedStatement[]): Promise<QueryResult[]> {
  if (statements.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    client.query(new PipelineQuery(statements, (error, results) => (error ? reject(error) : resolve(results!))));
  });
}

const failedAt = new WeakMap<object, number>();

/** For an error PostgreSQL raised in a pipeline: the index of the statement that failed. */
export function failedStatementIndex(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? failedAt.get(error) : undefined;
}

/** What the driver keeps per connection about named statements (untyped in @types/pg). */
interface DriverConnection extends pg.Connection {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
}

interface Message {
  fields: FieldDef[] | (string | null)[];
  text?: string;
}

const { prepareValue } = (pg as unknown as { utils: { prepareValue: (value: unknown) => string | Buffer | null } })
  .utils;

/**
 * The driver's extension point for a query of its own (as pg-cursor uses it): the client hands it the connection to
 * write to, then each message PostgreSQL answers, until ReadyForQuery or the first error.
 */
class PipelineQuery implements Submittable {
  private readonly results: QueryResult[] = [];
  private fields: FieldDef[] = [];
  private parsers: ((value: string) => unknown)[] = [];
  private rows: Record<string, unknown>[] = [];
  /** The named statements this submission parses, in order, and how many PostgreSQL confirmed. */
  private readonly parsing: PipelinedStatement[] = [];
  private parsedCount = 0;
  private connection?: DriverConnection;
  private readonly onParseComplete = () => void this.parsedCount++;
  private done = false;

  constructor(
    private readonly statements: readonly PipelinedStatement[],
    private readonly callback: (error: Error | null, results?: QueryResult[]) => void,
  ) {}

  /** The statements as one text, for whoever inspects queries (nothing sends it). */
  get text(): string {
    return this.statements.map((s) => s.text).join(';\n');
  }

  submit(connection: pg.Connection): Error | null {
    const con = connection as DriverConnection;
    let bound: (string | Buffer | null)[][];
    try {
      // Values are mapped before anything is written: a value the driver cannot send fails the whole pipeline unsent.
      bound = this.statements.map((s) => (s.values ?? []).map((v) => prepareValue(v)));
    } catch (error) {
      return error as Error;
    }
    this.connection = con;
    con.on('parseComplete', this.onParseComplete);
    con.stream.cork();
    try {
      this.statements.forEach((s, i) => {
        const name = s.name ?? '';
        if (!name || !(name in con.parsedStatements || name in con.submittedNamedStatements)) {
          con.parse({ text: s.text, name, types: [] }, false);
          if (name) {
            con.submittedNamedStatements[name] = s.text;
            this.parsing.push(s);
          } else this.parsing.push({ text: s.text });
        }
        con.bind({ portal: '', statement: name, values: bound[i] }, false);
        con.describe({ type: 'P', name: '' }, false);
        con.execute({ portal: '' }, false);
      });
      con.sync();
    } finally {
      con.stream.uncork();
    }
    return null;
  }

  handleRowDescription(message: Message): void {
    this.fields = message.fields as FieldDef[];
    this.parsers = this.fields.map((f) => pg.types.getTypeParser(f.dataTypeID, 'text') as (value: string) => unknown);
    this.rows = [];
  }

  handleDataRow(message: Message): void {
    const values = message.fields as (string | null)[];
    const row: Record<string, unknown> = {};
    this.fields.forEach((f, i) => {
      const raw = values[i];
      row[f.name] = raw === null ? null : this.parsers[i](raw);
    });
    this.rows.push(row);
  }

  handleCommandComplete(message: Message): void {
    const tag = message.text ?? '';
    const count = /\s(\d+)$/.exec(tag);
    this.results.push({
      command: tag.split(' ')[0],
      rowCount: count ? Number(count[1]) : null,
      oid: 0,
      fields: this.fields,
      rows: this.rows,
    });
    this.fields = [];
    this.parsers = [];
    this.rows = [];
  }

  handleEmptyQuery(): void {
    this.results.push({ command: '', rowCount: null, oid: 0, fields: [], rows: [] });
  }

  handlePortalSuspended(): void {
    // Every Execute asks for all rows, so a portal never suspends; were it to, its statement's answer is incomplete.
    this.finish(new Error('pipeline: a portal was suspended'));
  }

  handleCopyInResponse(connection: pg.Connection): void {
    (connection as unknown as { sendCopyFail(message: string): void }).sendCopyFail('COPY is not pipelined');
  }

  handleCopyData(): void {}

  handleError(error: Error): void {
    // Statements are answered in order, so the one that failed is the first not answered.
    if (error instanceof pg.DatabaseError) failedAt.set(error, this.results.length);
    this.finish(error);
  }

  handleReadyForQuery(): void {
    this.finish(
      this.results.length === this.statements.length
        ? null
        : new Error(`pipeline: ${this.results.length} answers to ${this.statements.length} statements`),
    );
  }

  /**
   * Records which named statements now exist on the connection: those PostgreSQL confirmed (parses are answered in
   * order, and the first error stops them) are reused; the rest are parsed again next time.
   */
  private finish(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    const con = this.connection;
    if (con) {
      con.off('parseComplete', this.onParseComplete);
      this.parsing.forEach((s, i) => {
        if (!s.name) return;
        delete con.submittedNamedStatements[s.name];
        if (i < this.parsedCount) con.parsedStatements[s.name] = s.text;
      });
    }
    if (error) this.callback(error);
    else this.callback(null, this.results);
  }
}
