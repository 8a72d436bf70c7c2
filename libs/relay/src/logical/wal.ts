/**
 * Pure helpers of the logical-replication mode: WAL positions (LSNs) and PostgreSQL snapshots, as PostgreSQL writes
 * them in text.
 */

/** An LSN (`16/B374D848`) as a number that orders as the WAL does. */
export function lsnOf(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!match) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function lsnText(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** A `pg_snapshot` (`xmin:xmax:xip,…`) in the terms `visibleIn` needs. */
export interface Snapshot {
  xmin: bigint;
  xmax: bigint;
  inFlight: ReadonlySet<bigint>;
}

export function parseSnapshot(text: string): Snapshot {
  const match = /^(\d+):(\d+):([\d,]*)$/.exec(text);
  if (!match) throw new Error(`not a pg_snapshot: ${text}`);
  const inFlight = new Set(match[3] ? match[3].split(',').map((x) => BigInt(x)) : []);
  return { xmin: BigInt(match[1]), xmax: BigInt(match[2]), inFlight };
}

/**
 * Whether transaction `txId` (an `xid8`, as text) had committed when the snapshot was taken, as
 * `pg_visible_in_snapshot` says for a committed transaction: below xmin, or below xmax and not in flight. (The rows a
 * stream carries are committed ones, so "visible" is "committed before the snapshot".)
 */
export function visibleIn(snapshot: Snapshot, txId: string): boolean {
  const id = BigInt(txId);
  if (id < snapshot.xmin) return true;
  if (id >= snapshot.xmax) return false;
  return !snapshot.inFlight.has(id);
}

/**
 * Takes whole transactions off the front of `queue` (in commit order) up to `limit` rows; a transaction bigger than
 * the limit goes alone, never split: the slot can be confirmed only past a whole transaction.
 */
export function takeTransactions<T extends { rows: readonly unknown[] }>(queue: T[], limit: number): T[] {
  const taken: T[] = [];
  let size = 0;
  while (queue.length > 0 && (taken.length === 0 || size + queue[0].rows.length <= limit)) {
    const tx = queue.shift()!;
    taken.push(tx);
    size += tx.rows.length;
  }
  return taken;
}
