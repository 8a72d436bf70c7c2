/**
 * Re-computes the hash chains of the event log and names the first broken link of each subject. `ChainVerifier` is
 * the pure walk (rows in, findings out); `verifyChains` streams the rows from the database into it. No framework
 * import: the CLI loads this file with a bare pg client.
 */
import { chainHash, GENESIS_HASH, type ChainEnvelope } from './chain';
import { chainEnvelopeOf, streamChainRows, type ChainQueryable, type ChainRow } from './chain-rows';
import { verifyCheckpoint, type Checkpoint, type CheckpointCheck, type CheckpointHead } from './checkpoint';

/**
 * - `payload-changed`: the event no longer matches its stored hash (any stored field changed, payload or metadata).
 * - `missing`: a sequence number is absent (deleted), or the subject ends before the head a checkpoint recorded.
 * - `reordered`: the event recorded at this sequence sits at another sequence now (sequences exchanged or moved).
 * - `swapped`: the payloads of two events of the subject were exchanged.
 * - `unhashed`: an event without a hash after hashed events (only a prefix written before hashing may lack one).
 * - `checkpoint-mismatch`: the chain is consistent in itself but reaches another hash than the checkpoint at its
 *   sequence: an event up to there was changed, removed or reordered and the chain re-hashed after it.
 */
export type BreakKind = 'payload-changed' | 'missing' | 'reordered' | 'swapped' | 'unhashed' | 'checkpoint-mismatch';

export interface BrokenLink {
  tenantId: string;
  subjectType: string;
  subjectId: string;
  /** The first sequence whose event is not what was recorded there. */
  sequence: number;
  kind: BreakKind;
  /** The event found at that sequence; null when there is none. */
  eventId: string | null;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Events re-hashed. */
  checked: number;
  subjects: number;
  /** Events without a stored hash (written before hashing): verified only through a later hash or a checkpoint. */
  unhashed: number;
  broken: BrokenLink[];
  /** More broken links than `maxBroken` were found; the rest are not listed. */
  truncated: boolean;
  checkpoint?: CheckpointCheck & { tenantId: string; createdAt: string; root: string; heads: number };
}

/** A chain's head as re-computed: what a checkpoint signs. */
export interface VerifiedHead extends CheckpointHead {
  tenantId: string;
}

export interface ChainVerifierOptions {
  /** Heads that must still be reached (the checkpoint's tenant only). */
  checkpoint?: Pick<Checkpoint, 'tenantId' | 'heads'>;
  /** Rows of a broken subject looked at to tell a reorder from a change. */
  lookahead?: number;
  maxBroken?: number;
  /** Called with each subject's re-computed head, whether or not the subject is intact. */
  onHead?: (head: VerifiedHead, intact: boolean) => void;
}

interface Suspect {
  row: ChainRow;
  previous: Buffer;
  later: ChainRow[];
  afterUnhashed: boolean;
}

const subjectKeyOf = (subjectType: string, subjectId: string) => `${subjectType}\u0000${subjectId}`;

/** The pure walk over rows in (tenant, subject type, subject id, sequence) order. */
export class ChainVerifier {
  private readonly lookahead: number;
  private readonly maxBroken: number;
  private readonly expected = new Map<string, CheckpointHead>();
  private readonly reached = new Set<string>();
  readonly broken: BrokenLink[] = [];
  truncated = false;
  checked = 0;
  subjects = 0;
  unhashed = 0;

  private current: { tenantId: string; subjectType: string; subjectId: string } | undefined;
  private head: { sequence: number; hash: Buffer | undefined } = { sequence: 0, hash: undefined };
  private sawHash = false;
  private lastUnhashed = false;
  private brokenSubject = false;
  private suspect: Suspect | undefined;

  constructor(private readonly options: ChainVerifierOptions = {}) {
    this.lookahead = options.lookahead ?? 16;
    this.maxBroken = options.maxBroken ?? 1000;
    for (const h of options.checkpoint?.heads ?? []) this.expected.set(subjectKeyOf(h.subjectType, h.subjectId), h);
  }

  push(row: ChainRow): void {
    if (
      !this.current ||
      this.current.tenantId !== row.tenant_id ||
      this.current.subjectType !== row.subject_type ||
      this.current.subjectId !== row.subject_id
    ) {
      this.finishSubject();
      this.current = { tenantId: row.tenant_id, subjectType: row.subject_type, subjectId: row.subject_id };
      this.head = { sequence: 0, hash: undefined };
      this.sawHash = false;
      this.lastUnhashed = false;
      this.brokenSubject = false;
      this.subjects++;
    }
    this.checked++;
    if (row.hash === null) this.unhashed++;
    if (this.suspect) {
      this.suspect.later.push(row);
      if (this.suspect.later.length >= this.lookahead) this.judgeSuspect();
      return;
    }
    if (this.brokenSubject) return;

    const expectedSequence = this.head.sequence + 1;
    if (row.sequence !== expectedSequence) {
      this.report(
        expectedSequence,
        row.sequence > expectedSequence ? 'missing' : 'reordered',
        row.sequence > expectedSequence ? null : row.id,
        row.sequence > expectedSequence
          ? `sequence ${expectedSequence} is absent: the next event is ${row.id} at sequence ${row.sequence}`
          : `event ${row.id} repeats sequence ${row.sequence}`,
      );
      return;
    }
    const previous = this.head.hash ?? GENESIS_HASH;
    const computed = chainHash(previous, chainEnvelopeOf(row));
    if (row.hash === null) {
      if (this.sawHash) {
        this.report(row.sequence, 'unhashed', row.id, `event ${row.id} has no hash, after hashed events`);
        return;
      }
      this.lastUnhashed = true;
    } else if (!computed.equals(row.hash)) {
      this.suspect = { row, previous, later: [], afterUnhashed: this.lastUnhashed };
      return;
    } else {
      this.sawHash = true;
      this.lastUnhashed = false;
    }
    this.head = { sequence: row.sequence, hash: computed };
    this.checkExpected();
  }

  /** Call after the last row. */
  end(): void {
    this.finishSubject();
    this.current = undefined;
    const tenantId = this.options.checkpoint?.tenantId ?? '';
    for (const [key, head] of this.expected) {
      if (this.reached.has(key)) continue;
      this.current = { tenantId, subjectType: head.subjectType, subjectId: head.subjectId };
      this.report(
        1,
        'missing',
        null,
        `the checkpoint records sequence ${head.sequence}; the subject has no events any more`,
      );
    }
    this.current = undefined;
  }

  get ok(): boolean {
    return this.broken.length === 0;
  }

  private checkExpected(): void {
    const expected = this.current && this.expected.get(subjectKeyOf(this.current.subjectType, this.current.subjectId));
    if (!expected || this.current!.tenantId !== this.options.checkpoint?.tenantId) return;
    if (expected.sequence !== this.head.sequence) return;
    if (this.head.hash!.toString('hex') !== expected.hash) {
      this.report(
        expected.sequence,
        'checkpoint-mismatch',
        null,
        `the chain reaches another hash than the checkpoint at sequence ${expected.sequence}: ` +
          `an event up to there was changed, removed or reordered and the chain re-hashed`,
      );
    }
  }

  private finishSubject(): void {
    if (!this.current) return;
    if (this.suspect) this.judgeSuspect();
    const key = subjectKeyOf(this.current.subjectType, this.current.subjectId);
    const expected = this.current.tenantId === this.options.checkpoint?.tenantId ? this.expected.get(key) : undefined;
    if (expected) {
      this.reached.add(key);
      if (!this.brokenSubject && this.head.sequence < expected.sequence) {
        this.report(
          this.head.sequence + 1,
          'missing',
          null,
          `the checkpoint records sequence ${expected.sequence}; the subject ends at ${this.head.sequence}`,
        );
      }
    }
    if (this.head.hash) {
      this.options.onHead?.(
        {
          tenantId: this.current.tenantId,
          subjectType: this.current.subjectType,
          subjectId: this.current.subjectId,
          sequence: this.head.sequence,
          hash: this.head.hash.toString('hex'),
        },
        !this.brokenSubject,
      );
    }
  }

  /** A row did not match its hash: a changed event, or one that belongs at another sequence or with another payload. */
  private judgeSuspect(): void {
    const { row, previous, later, afterUnhashed } = this.suspect!;
    this.suspect = undefined;
    const envelope = chainEnvelopeOf(row);
    const hashesTo = (e: ChainEnvelope, stored: Buffer | null) =>
      stored !== null && chainHash(previous, e).equals(stored);
    const moved = later.find((r) => hashesTo({ ...chainEnvelopeOf(r), sequence: row.sequence }, r.hash));
    if (moved) {
      this.report(
        row.sequence,
        'reordered',
        row.id,
        `event ${moved.id}, recorded at sequence ${row.sequence}, is at sequence ${moved.sequence} now; ` +
          `event ${row.id} is in its place`,
      );
      return;
    }
    const exchanged = later.find((r) => hashesTo({ ...envelope, payload: r.payload }, row.hash));
    if (exchanged) {
      this.report(
        row.sequence,
        'swapped',
        row.id,
        `event ${row.id} carries the payload of event ${exchanged.id} (sequence ${exchanged.sequence}) and ` +
          `the other way round`,
      );
      return;
    }
    this.report(
      row.sequence,
      'payload-changed',
      row.id,
      afterUnhashed
        ? `event ${row.id} does not match its hash, or an earlier event written before hashing was changed`
        : `event ${row.id} does not match its hash`,
    );
  }

  private report(sequence: number, kind: BreakKind, eventId: string | null, detail: string): void {
    this.brokenSubject = true;
    if (this.broken.length >= this.maxBroken) {
      this.truncated = true;
      return;
    }
    const { tenantId, subjectType, subjectId } = this.current!;
    this.broken.push({ tenantId, subjectType, subjectId, sequence, kind, eventId, detail });
  }
}

export interface VerifyOptions {
  /** One tenant; all tenants when absent (a checkpoint limits it to the checkpoint's tenant). */
  tenantId?: string;
  /** A checkpoint whose heads must still be reached and whose signature must verify. */
  checkpoint?: Checkpoint;
  /** PEM public key the checkpoint must be signed with; absent: the key the checkpoint carries. */
  publicKey?: string;
  pageSize?: number;
  maxBroken?: number;
  onHead?: ChainVerifierOptions['onHead'];
}

/** Re-computes every chain of the tenant (or all tenants) in sequence order, one page of rows in memory at a time. */
export async function verifyChains(db: ChainQueryable, options: VerifyOptions = {}): Promise<VerifyReport> {
  const { checkpoint } = options;
  if (checkpoint && options.tenantId !== undefined && options.tenantId !== checkpoint.tenantId) {
    throw new Error(`the checkpoint is of tenant ${checkpoint.tenantId}, not ${options.tenantId}`);
  }
  const verifier = new ChainVerifier({ checkpoint, maxBroken: options.maxBroken, onHead: options.onHead });
  const tenantId = checkpoint?.tenantId ?? options.tenantId;
  for await (const row of streamChainRows(db, { tenantId, pageSize: options.pageSize })) verifier.push(row);
  verifier.end();
  const report: VerifyReport = {
    ok: verifier.ok,
    checked: verifier.checked,
    subjects: verifier.subjects,
    unhashed: verifier.unhashed,
    broken: verifier.broken,
    truncated: verifier.truncated,
  };
  if (checkpoint) {
    const check = verifyCheckpoint(checkpoint, options.publicKey);
    report.checkpoint = {
      ...check,
      tenantId: checkpoint.tenantId,
      createdAt: checkpoint.createdAt,
      root: checkpoint.root,
      heads: checkpoint.heads.length,
    };
    if (!check.rootMatches || !check.signatureValid) report.ok = false;
  }
  return report;
}
