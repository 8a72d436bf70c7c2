import type { Queryable } from '@event-spine/outbox';

/** How much WAL a replication slot holds on the server, in bytes; read on scrape for the logical mode's gauges. */
export interface SlotWal {
  /** WAL the server keeps for the slot (from its restart point to now): disk the slot holds. */
  retained: number;
  /** WAL written since the slot was last confirmed: what the relay has not yet published and acknowledged. */
  unconfirmed: number;
}

/** The slot's WAL, or undefined when the slot does not exist (yet, or any more): then it holds nothing. */
export async function readSlotWal(db: Queryable, slot: string): Promise<SlotWal | undefined> {
  const rows = await db.query<{ retained: string | null; unconfirmed: string | null }[]>(
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text AS retained,
            pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS unconfirmed
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  if (rows.length === 0) return undefined;
  return { retained: Number(rows[0].retained ?? 0), unconfirmed: Number(rows[0].unconfirmed ?? 0) };
}
