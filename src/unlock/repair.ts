import type {Client} from 'pg'

import {readError, type LockTableRef} from './knex-lock.js'

/**
 * Repairs run in ONE transaction:
 *
 *   BEGIN; SET LOCAL lock_timeout = <short>;
 *   LOCK TABLE <lock table> IN ACCESS EXCLUSIVE MODE;
 *   -- re-read: the rows must be the very row versions the diagnosis saw
 *   <change>; <verify>;
 *   COMMIT;
 *
 * ACCESS EXCLUSIVE, not SHARE ROW EXCLUSIVE: it is the only mode that also conflicts with ROW SHARE
 * (`SELECT … FOR UPDATE`) and ACCESS SHARE, so any session with any open lock on the table, a
 * live migrator above all, makes the repair fail fast (lock_timeout → 55P03) instead of waiting
 * behind it or working around it; and knex's own `ensureTable` (select, then insert when empty)
 * cannot read the table half-way: it waits for the commit and then sees exactly one row. The lock
 * is held for a few milliseconds on a one-row table; lock_timeout bounds the time poolctl queues
 * ahead of others.
 *
 * Never DELETE-then-INSERT outside a transaction (what `knex migrate:unlock` does, knex #3538).
 */

export type RepairOutcome<T> = {message: string; result: 'changed'} | {message: string; result: 'held'} | {result: 'released'; value: T}

class StateChanged extends Error {}

/** Run `work` in a transaction that first takes ACCESS EXCLUSIVE on `qualified` (bounded by lock_timeout). */
export async function withExclusiveTableLock<T>(
  client: Client,
  qualified: string,
  lockTimeoutMillis: number,
  work: (ensureUnchanged: (fingerprint: string, expected: string) => void) => Promise<T>,
): Promise<RepairOutcome<T>> {
  await client.query('begin')
  let committed = false
  try {
    await client.query("select set_config('lock_timeout', $1, true)", [`${lockTimeoutMillis}ms`])
    await client.query(`lock table ${qualified} in access exclusive mode`)
    const value = await work((fingerprint, expected) => {
      if (fingerprint !== expected) throw new StateChanged()
    })
    await client.query('commit')
    committed = true
    return {result: 'released', value}
  } catch (error) {
    if (error instanceof StateChanged) {
      return {message: 'the lock row changed between the diagnosis and the repair (a migrator took or freed it): nothing was changed', result: 'changed'}
    }
    if ((error as {code?: string}).code === '55P03') {
      return {message: `a live session holds a lock on ${qualified} (lock_timeout ${lockTimeoutMillis} ms expired): nothing was changed`, result: 'held'}
    }
    throw readError(error, `repairing ${qualified}`)
  } finally {
    if (!committed) await client.query('rollback').catch(() => undefined)
  }
}

export interface KnexRepair {
  deleted: number
  inserted: boolean
  rowsAfter: number
}

/** Keep one row (the lowest index), set is_locked = 0; insert one row when there is none. */
export async function repairKnexLock(
  client: Client,
  ref: LockTableRef,
  expectedFingerprint: string,
  lockTimeoutMillis: number,
): Promise<RepairOutcome<KnexRepair>> {
  return withExclusiveTableLock(client, ref.qualified, lockTimeoutMillis, async (ensureUnchanged) => {
    const {rows} = await client.query<{ctid: string; xmin: string; is_locked: number | null}>(
      `select ctid::text as ctid, xmin::text as xmin, is_locked from ${ref.qualified} order by "index", ctid`,
    )
    ensureUnchanged(rows.map((row) => `${row.ctid}/${row.xmin}/${row.is_locked}`).join(','), expectedFingerprint)
    let deleted = 0
    let inserted = false
    if (rows.length === 0) {
      await client.query(`insert into ${ref.qualified} (is_locked) values (0)`)
      inserted = true
    } else {
      const keep = rows[0].ctid
      if (rows.length > 1) deleted = (await client.query(`delete from ${ref.qualified} where ctid <> $1::tid`, [keep])).rowCount ?? 0
      await client.query(`update ${ref.qualified} set is_locked = 0 where ctid = $1::tid`, [keep])
    }
    const check = await client.query<{rows: number; locked: number | null}>(
      `select count(*)::int as rows, max(is_locked) as locked from ${ref.qualified}`,
    )
    if (check.rows[0].rows !== 1 || check.rows[0].locked !== 0) {
      throw new Error(`after the repair the lock table has ${check.rows[0].rows} rows, is_locked ${check.rows[0].locked}`)
    }
    return {deleted, inserted, rowsAfter: 1}
  })
}
