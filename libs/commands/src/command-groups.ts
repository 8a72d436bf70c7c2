/**
 * What a queued command claims while its group's transaction runs: its tenant, and the names (subjects, data
 * subjects, Idempotency-Key) no other command of the same transaction may share.
 */
export interface Claims {
  tenantId: string;
  /** Distinct within one command; prefixed by kind (`s:`, `d:`, `k:`) so kinds never collide. */
  names: readonly string[];
}

/**
 * Takes the next group of queued commands out of `queue` (mutated): the oldest command that is free, then, in queue
 * order, each later one of the same tenant that is free and shares no name with the group, up to `max`. A command is
 * free when none of its names is `busy` (held by a group still running). Skipped commands keep their place, so two
 * commands on one subject still run in the order they came; a command behind one it shares a name with waits for it
 * even if it would fit, for the same reason.
 *
 * Why disjoint: the group runs as one transaction, so two of its commands on one subject would see the same state
 * and both write on it; on one Idempotency-Key, both would miss the stored response; on one data subject, both would
 * create its key.
 */
export function takeGroup<J extends { claims: Claims }>(queue: J[], max: number, busy: ReadonlySet<string>): J[] {
  const group: J[] = [];
  const taken = new Set<string>();
  // Names of commands passed over: a later command sharing one must not overtake them.
  const passed = new Set<string>();
  let tenant: string | undefined;
  for (let i = 0; i < queue.length && group.length < max;) {
    const job = queue[i];
    const { names } = job.claims;
    const fits =
      (tenant === undefined || job.claims.tenantId === tenant) &&
      names.every((n) => !busy.has(n) && !taken.has(n) && !passed.has(n));
    if (!fits) {
      for (const n of names) passed.add(n);
      i++;
      continue;
    }
    tenant = job.claims.tenantId;
    for (const n of names) taken.add(n);
    group.push(job);
    queue.splice(i, 1);
  }
  return group;
}
