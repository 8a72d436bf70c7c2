/**
 * A query (one row, one `xid8` column, `below`) for the oldest transaction still in flight that could yet commit rows
 * into this database. A reader that takes rows in transaction-id order only below it never skips a row that commits
 * late with a lower id.
 *
 * Transaction ids are the cluster's, so the snapshot's in-flight list also holds other databases' transactions (a
 * projector's batch in its own database, anyone's), which can never write here: a backend stays in the database it
 * connected to. Those are passed over when `pg_stat_activity` names them; any other (unnamed, hidden from this role,
 * prepared) still holds rows back. The activity list is read only when something is in flight.
 */
export const WRITABLE_HORIZON = `
  SELECT coalesce(
           (SELECT min(x) FROM pg_snapshot_xip(s.snap) AS x
             WHERE xid(x) NOT IN (SELECT a.backend_xid FROM pg_stat_activity a
                                   WHERE a.backend_xid IS NOT NULL
                                     AND a.datid <> (SELECT d.oid FROM pg_database d
                                                      WHERE d.datname = current_database()))),
           pg_snapshot_xmax(s.snap)) AS below
    FROM (SELECT pg_current_snapshot() AS snap) s`;
