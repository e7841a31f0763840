import {setTimeout as sleep} from 'node:timers/promises'

import type {Client} from 'pg'
import type {Logger} from 'pino'

import {ExitCode} from '../cli/exit-codes.js'
import {ErrorCode} from '../errors.js'
import {advisoryKeys, ADVISORY_TOOLS, findAdvisoryLocks, listSchemas} from './advisory.js'
import {diagnoseKnexLock, readError, readSessionContext, type KnexDiagnosisResult, type SessionContext} from './knex-lock.js'
import {diagnoseLiquibase, resetLiquibaseLock, type LiquibaseTable} from './liquibase.js'
import {repairKnexLock, type RepairOutcome} from './repair.js'
import {livePids} from './sessions.js'
import {dropUnusedTrackingObjects, installStatements, isTrackingInstalled, removeStatements} from './tracking.js'
import type {Holder, OtherToolLock, RefusalReason, TrackingChange, UnlockReport} from './types.js'

/** What the caller answers when poolctl asks before changing anything. */
export type ConfirmAnswer = 'no' | 'no-tty' | 'yes'

export interface UnlockOptions {
  /** knex `migrations.tableName` (default knex_migrations). */
  table: string
  /** knex `migrations.schemaName`; default `current_schema()`. */
  schema?: string
  dryRun: boolean
  /** Change things without asking. */
  yes: boolean
  /** `--wait`: poll this long while a live holder has the lock; 0 = do not wait. */
  waitMillis: number
  /** `--terminate PID`. */
  terminatePid?: number
  force: boolean
  track: boolean
  untrack: boolean
  /** lock_timeout of the repair transaction. */
  repairLockTimeoutMillis: number
  /** lock_timeout of the FOR UPDATE NOWAIT probe. */
  probeLockTimeoutMillis: number
  pollIntervalMillis?: number
  /** Asks the user (on a TTY); returns 'no-tty' when nobody can be asked. */
  confirm: (diagnosis: UnlockReport, plan: readonly string[]) => Promise<ConfirmAnswer>
  /** Progress for humans (waiting…), e.g. to stderr. */
  onProgress?: (line: string) => void
  logger?: Logger
}

export const DEFAULT_REPAIR_LOCK_TIMEOUT_MILLIS = 1000
export const DEFAULT_PROBE_LOCK_TIMEOUT_MILLIS = 1000
const DEFAULT_POLL_INTERVAL_MILLIS = 500
const TERMINATE_WAIT_MILLIS = 5000

interface Snapshot {
  knex: KnexDiagnosisResult
  advisory: OtherToolLock[]
  liquibase: LiquibaseTable[]
}

type Step =
  | {forced: boolean; kind: 'repair-knex'}
  | {forced: boolean; kind: 'reset-liquibase'; table: LiquibaseTable}
  | {holder: Holder; kind: 'terminate'; what: string}

export async function unlockMigrations(client: Client, options: UnlockOptions): Promise<UnlockReport> {
  const context = await readSessionContext(client)
  const keyContext = {database: context.database, schemas: await listSchemas(client)}
  const diagnose = async (): Promise<Snapshot> => ({
    advisory: await findAdvisoryLocks(client, advisoryKeys(keyContext)),
    knex: await diagnoseKnexLock(client, context, {
      probeLockTimeoutMillis: options.probeLockTimeoutMillis,
      schema: options.schema,
      table: options.table,
    }),
    liquibase: await diagnoseLiquibase(client),
  })

  let snapshot = await diagnose()
  const startedAt = performance.now()
  if (options.waitMillis > 0 && !options.track && !options.untrack && isHeld(snapshot)) {
    options.onProgress?.(`waiting up to ${Math.round(options.waitMillis / 1000)} s for the holder to finish (--wait)`)
    const deadline = startedAt + options.waitMillis
    while (isHeld(snapshot) && performance.now() < deadline) {
      await sleep(Math.min(options.pollIntervalMillis ?? DEFAULT_POLL_INTERVAL_MILLIS, Math.max(0, deadline - performance.now())))
      snapshot = await diagnose()
    }
  }
  const report = toReport(snapshot)
  report.waitedSeconds = options.waitMillis > 0 ? round((performance.now() - startedAt) / 1000) : 0
  if (report.waitedSeconds > 0 && isHeld(snapshot)) report.notes.push(`still held after waiting ${report.waitedSeconds} s (--wait)`)

  if (options.track || options.untrack) {
    await changeTracking(client, snapshot, report, options)
  } else {
    await planAndAct(client, context, snapshot, report, options, diagnose)
  }
  report.exitCode = exitCodeFor(report)
  return report
}

function isHeld(snapshot: Snapshot): boolean {
  return (
    snapshot.knex.diagnosis.state === 'held' ||
    snapshot.advisory.some((lock) => lock.state === 'held') ||
    snapshot.liquibase.some((table) => table.lock.state === 'held')
  )
}

function toReport(snapshot: Snapshot): UnlockReport {
  const {diagnosis} = snapshot.knex
  // The keys the issue names first, in a stable order; then the evidence.
  return {
    tool: diagnosis.tool,
    schema: diagnosis.schema,
    table: diagnosis.table,
    lockTable: diagnosis.lockTable,
    state: diagnosis.state,
    holders: diagnosis.holders,
    action: 'none',
    rowsBefore: diagnosis.rowCount,
    rowsAfter: diagnosis.rowCount,
    stateAfter: diagnosis.state,
    reason: null,
    plan: [],
    forced: false,
    terminated: null,
    exitCode: ExitCode.OK,
    database: diagnosis.database,
    searchPath: diagnosis.searchPath,
    qualifiedLockTable: diagnosis.qualifiedLockTable,
    proof: diagnosis.proof,
    notes: diagnosis.notes,
    waiters: diagnosis.waiters,
    rowCount: diagnosis.rowCount,
    rows: diagnosis.rows,
    tracking: diagnosis.tracking,
    trackingChange: null,
    latestMigration: diagnosis.latestMigration,
    otherSessions: diagnosis.otherSessions,
    otherTools: otherTools(snapshot),
    checkedTools: [...ADVISORY_TOOLS, 'Liquibase'],
    waitedSeconds: 0,
  }
}

function otherTools(snapshot: Snapshot): OtherToolLock[] {
  return [...snapshot.advisory, ...snapshot.liquibase.map((table) => table.lock)]
}

function refuse(report: UnlockReport, code: string, message: string): void {
  report.action = 'refused'
  report.reason = {code, message} satisfies RefusalReason
}

function describeHolder(holder: Holder): string {
  return `backend ${holder.pid} (${[holder.applicationName || 'no application_name', holder.user, holder.client].filter(Boolean).join(', ')})`
}

/** Decide what to do from the diagnosis, confirm, do it, diagnose again. */
async function planAndAct(
  client: Client,
  context: SessionContext,
  snapshot: Snapshot,
  report: UnlockReport,
  options: UnlockOptions,
  diagnose: () => Promise<Snapshot>,
): Promise<void> {
  const steps = planSteps(snapshot, report, options)
  if (steps === undefined) return
  if (steps.length === 0) {
    if (report.state === 'held' && report.action === 'none') {
      refuse(
        report,
        ErrorCode.LOCK_HELD,
        report.proof === 'row-lock'
          ? 'a live transaction holds the lock: not released (it ends with that transaction; use --wait or --terminate PID)'
          : 'a live holder has the lock: not released (use --wait, --terminate PID, or --force)',
      )
    }
    return
  }
  report.plan = steps.map((step) => describeStep(step, snapshot, options))
  report.forced = steps.some((step) => step.kind !== 'terminate' && step.forced)
  if (options.dryRun) {
    report.action = 'would-release'
    return
  }
  if (!options.yes) {
    const answer = await options.confirm(report, report.plan)
    if (answer !== 'yes') {
      refuse(
        report,
        ErrorCode.REFUSED,
        answer === 'no-tty' ? 'not a terminal and no --yes: nothing was changed (re-run with --yes, or --dry-run to preview)' : 'declined: nothing was changed',
      )
      return
    }
  }

  let current = snapshot
  for (const step of steps) {
    if (step.kind === 'terminate') {
      const ended = await terminate(client, context, step.holder, report)
      if (!ended) return
      current = await diagnose()
      // What the holder left behind: a rolled-back transaction leaves the lock free; a
      // non-transactional run leaves is_locked = 1 (stale now), released below.
      const followUps = planSteps(current, report, {...options, force: false, terminatePid: undefined})
      for (const followUp of followUps ?? []) {
        report.plan.push(describeStep(followUp, current, options))
        await runRepair(client, followUp, current, report, options)
      }
      continue
    }
    await runRepair(client, step, current, report, options)
  }
  const after = await diagnose()
  report.stateAfter = after.knex.diagnosis.state
  report.rowsAfter = after.knex.diagnosis.rowCount
  report.otherTools = otherTools(after)
}

/** The steps the diagnosis calls for; undefined when the request is refused outright. */
function planSteps(snapshot: Snapshot, report: UnlockReport, options: Pick<UnlockOptions, 'force' | 'terminatePid'>): Step[] | undefined {
  const {diagnosis} = snapshot.knex
  if (options.terminatePid !== undefined) {
    const pid = options.terminatePid
    const owners: Array<{holder: Holder; what: string}> = [
      ...(diagnosis.state === 'held' ? diagnosis.holders.map((holder) => ({holder, what: `the knex lock ${diagnosis.qualifiedLockTable}`})) : []),
      ...otherTools(snapshot).flatMap((lock) =>
        lock.state === 'held' ? lock.holders.map((holder) => ({holder, what: `the ${lock.tool} lock ${lock.key}`})) : [],
      ),
    ]
    const owner = owners.find((candidate) => candidate.holder.pid === pid)
    if (!owner) {
      const holderPids = [...new Set(owners.map((candidate) => candidate.holder.pid))]
      refuse(
        report,
        ErrorCode.NOT_HOLDER,
        `backend ${pid} does not hold a migration lock${
          holderPids.length > 0 ? ` (holders: ${holderPids.join(', ')})` : ' (no live holder was found)'
        }: nothing was terminated`,
      )
      return undefined
    }
    return [{holder: owner.holder, kind: 'terminate', what: owner.what}]
  }
  const steps: Step[] = []
  if (diagnosis.state === 'stale' || diagnosis.state === 'corrupt') steps.push({forced: false, kind: 'repair-knex'})
  if (diagnosis.state === 'held' && options.force) {
    if (diagnosis.proof === 'row-lock') {
      report.notes.push('--force cannot release a lock held by a live transaction: it ends with that transaction (commit or rollback); use --wait or --terminate PID')
    } else {
      steps.push({forced: true, kind: 'repair-knex'})
    }
  }
  for (const table of snapshot.liquibase) {
    if (table.lock.state === 'stale') steps.push({forced: false, kind: 'reset-liquibase', table})
    if (table.lock.state === 'held' && options.force) steps.push({forced: true, kind: 'reset-liquibase', table})
  }
  return steps
}

function describeStep(step: Step, snapshot: Snapshot, options: UnlockOptions): string {
  const {diagnosis} = snapshot.knex
  switch (step.kind) {
    case 'terminate': {
      return `terminate ${describeHolder(step.holder)}, the holder of ${step.what}, with pg_terminate_backend; then release what it left if that is stale or corrupt`
    }
    case 'repair-knex': {
      const rows = diagnosis.rowCount ?? 0
      const detail = rows === 0 ? 'insert one row (is_locked = 0)' : rows > 1 ? `keep the first of ${rows} rows, delete ${rows - 1}, set is_locked = 0` : 'set is_locked = 0'
      return `${step.forced ? 'FORCE-' : ''}release ${diagnosis.qualifiedLockTable}: one transaction (lock_timeout ${options.repairLockTimeoutMillis} ms): LOCK TABLE … IN ACCESS EXCLUSIVE MODE, ${detail}`
    }
    case 'reset-liquibase': {
      return `${step.forced ? 'FORCE-' : ''}reset ${step.table.qualified}: one transaction (lock_timeout ${options.repairLockTimeoutMillis} ms): UPDATE … SET locked = false, lockgranted = null, lockedby = null WHERE id = 1`
    }
  }
}

async function runRepair(client: Client, step: Step, snapshot: Snapshot, report: UnlockReport, options: UnlockOptions): Promise<void> {
  let outcome: RepairOutcome<unknown>
  if (step.kind === 'repair-knex') {
    const {fingerprint, ref} = snapshot.knex
    if (!ref) return
    outcome = await repairKnexLock(client, ref, fingerprint, options.repairLockTimeoutMillis)
  } else if (step.kind === 'reset-liquibase') {
    outcome = await resetLiquibaseLock(client, step.table, options.repairLockTimeoutMillis)
  } else {
    return
  }
  if (outcome.result === 'released') {
    if (report.action !== 'terminated') report.action = 'released'
    return
  }
  refuse(report, outcome.result === 'held' ? ErrorCode.LOCK_HELD : ErrorCode.STATE_CHANGED, outcome.message)
}

/** pg_terminate_backend(pid), then wait (bounded) until the backend has exited. */
async function terminate(client: Client, context: SessionContext, holder: Holder, report: UnlockReport): Promise<boolean> {
  try {
    await client.query('select pg_terminate_backend($1)', [holder.pid])
  } catch (error) {
    if ((error as {code?: string}).code === '42501') {
      refuse(
        report,
        ErrorCode.PERMISSION_DENIED,
        `permission denied to terminate backend ${holder.pid} (user ${holder.user ?? 'unknown'}): role "${context.user}" needs the pg_signal_backend role (GRANT pg_signal_backend TO "${context.user}"), or to be a member of the backend's role; only a superuser may terminate a superuser's backend`,
      )
      return false
    }
    throw readError(error, `terminating backend ${holder.pid}`)
  }
  const deadline = performance.now() + TERMINATE_WAIT_MILLIS
  let exited = false
  while (performance.now() < deadline) {
    if (!(await livePids(client, [holder.pid])).has(holder.pid)) {
      exited = true
      break
    }
    await sleep(50)
  }
  report.terminated = {exited, pid: holder.pid}
  report.action = 'terminated'
  if (!exited) report.notes.push(`backend ${holder.pid} was signalled but had not exited after ${TERMINATE_WAIT_MILLIS / 1000} s`)
  return exited
}

async function changeTracking(client: Client, snapshot: Snapshot, report: UnlockReport, options: UnlockOptions): Promise<void> {
  const requested = options.track ? 'install' : 'remove'
  const change: TrackingChange = {requested, result: 'refused'}
  report.trackingChange = change
  const {ref} = snapshot.knex
  if (!ref) {
    refuse(report, ErrorCode.REFUSED, `no lock table ${report.qualifiedLockTable}: run a knex migration once (it creates the table), then --track`)
    return
  }
  const installed = await isTrackingInstalled(client, ref.oid)
  if (options.track && installed) {
    change.result = 'already-installed'
    return
  }
  if (options.untrack && !installed) {
    change.result = 'not-installed'
    return
  }
  report.plan = [
    options.track
      ? `install tracking: trigger poolctl_track_lock on ${ref.qualified} (after insert or update of is_locked, when is_locked = 1) recording pid, backend_start, application_name, client address, user and time in "${ref.schema}".poolctl_lock_tracking`
      : `remove tracking: drop trigger poolctl_track_lock on ${ref.qualified} (and the side table and function once no lock table of the schema uses them)`,
  ]
  if (options.dryRun) {
    change.result = options.track ? 'would-install' : 'would-remove'
    return
  }
  if (!options.yes) {
    const answer = await options.confirm(report, report.plan)
    if (answer !== 'yes') {
      refuse(report, ErrorCode.REFUSED, answer === 'no-tty' ? 'not a terminal and no --yes: nothing was changed' : 'declined: nothing was changed')
      return
    }
  }
  const target = {lockTable: ref.lockTable, oid: ref.oid, schema: ref.schema}
  await client.query('begin')
  try {
    await client.query("select set_config('lock_timeout', $1, true)", [`${options.repairLockTimeoutMillis}ms`])
    for (const statement of options.track ? installStatements(target) : removeStatements(target)) await client.query(statement)
    if (options.untrack) await dropUnusedTrackingObjects(client, target)
    await client.query('commit')
  } catch (error) {
    await client.query('rollback').catch(() => undefined)
    if ((error as {code?: string}).code === '55P03') {
      refuse(report, ErrorCode.LOCK_HELD, `a live session holds a lock on ${ref.qualified} (lock_timeout ${options.repairLockTimeoutMillis} ms): tracking was not changed`)
      return
    }
    throw readError(error, options.track ? 'installing tracking' : 'removing tracking')
  }
  change.result = options.track ? 'installed' : 'removed'
  report.tracking = {...report.tracking, installed: options.track}
}

export function exitCodeFor(report: Pick<UnlockReport, 'action' | 'otherTools' | 'stateAfter'>): number {
  if (report.stateAfter === 'held' || report.otherTools.some((lock) => lock.state === 'held')) return ExitCode.CRITICAL
  if (report.action === 'refused') return ExitCode.WARNING
  return ExitCode.OK
}

function round(value: number): number {
  return Math.round(value * 10) / 10
}
