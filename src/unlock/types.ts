/** The data `poolctl unlock-migrations` works on and prints (human text and --json alike). */

export const LOCK_STATES = ['missing', 'unlocked', 'held', 'stale', 'corrupt'] as const
export type LockState = (typeof LOCK_STATES)[number]

export const ACTIONS = ['none', 'released', 'refused', 'would-release', 'terminated'] as const
export type Action = (typeof ACTIONS)[number]

/**
 * How the state was established:
 * - `catalog`: the lock table does not exist;
 * - `row-count`: zero or several rows (knex needs exactly one);
 * - `row-lock`: `SELECT … FOR UPDATE NOWAIT` failed with 55P03: a live transaction holds the row;
 * - `tracking`: the `--track` trigger recorded who set is_locked = 1, and that backend is (not) alive;
 * - `migration-activity`: is_locked = 1 and a session shows migration work (DDL, locks on the tables);
 * - `no-live-holder-found`: is_locked = 1, nothing above: stale, but not provable from Postgres alone;
 * - `value`: is_locked = 0 and nobody holds the row.
 */
export type Proof =
  | 'catalog'
  | 'migration-activity'
  | 'no-live-holder-found'
  | 'row-count'
  | 'row-lock'
  | 'tracking'
  | 'value'

/** One backend, as pg_stat_activity shows it. Fields the role may not see are null. */
export interface Session {
  pid: number
  user: string | null
  applicationName: string | null
  /** `addr:port`, `local` (Unix socket), or null when hidden. */
  client: string | null
  clientAddr: string | null
  state: string | null
  backendType: string | null
  backendStart: string | null
  xactStart: string | null
  /** Age of the open transaction, seconds. */
  xactAgeSeconds: number | null
  /** Time since the last state change (for idle sessions: since the last query ended), seconds. */
  stateAgeSeconds: number | null
  waitEvent: string | null
  /** Current or last query, at most 300 characters. */
  query: string | null
}

export type HolderRole =
  | 'advisory-lock'
  | 'liquibase-candidate'
  | 'migration-activity'
  | 'row-lock'
  | 'table-lock'
  | 'tracked'

export interface Holder extends Session {
  role: HolderRole
  /** Why this session counts as the holder. */
  reason: string
}

export interface TrackingRecord {
  lockedAt: string
  txid: string | null
  pid: number
  backendStart: string | null
  applicationName: string | null
  client: string | null
  user: string | null
  /** True when the record describes the current is_locked = 1 (same transaction wrote both). */
  matchesCurrentLock: boolean
  /** Whether the recording backend (pid + backend_start) is still connected; null = cannot tell. */
  backendAlive: boolean | null
}

export interface TrackingInfo {
  installed: boolean
  /** The side table, when installed. */
  table: string | null
  record: TrackingRecord | null
}

export interface LatestMigration {
  name: string
  migrationTime: string | null
  ageSeconds: number | null
  applied: number
}

export interface LockRow {
  index: string | null
  isLocked: number | null
  /** Transaction that wrote this row version. */
  xmin: string
  ctid: string
}

/** The knex lock, diagnosed. */
export interface KnexDiagnosis {
  tool: 'knex'
  database: string
  /** The schema the lock table is in (or was looked for in). */
  schema: string | null
  /** Where knex looks when no schema is configured: `current_schema()` of poolctl's session. */
  searchPath: string[]
  table: string
  lockTable: string
  /** `"schema"."table_lock"`. */
  qualifiedLockTable: string
  state: LockState
  proof: Proof
  holders: Holder[]
  /** Sessions queued behind the holder (e.g. other migrators waiting for the row). */
  waiters: Holder[]
  rows: LockRow[]
  rowCount: number | null
  tracking: TrackingInfo
  latestMigration: LatestMigration | null
  /** Sessions of the same role(s) in this database: evidence for humans when proof is weak. */
  otherSessions: Session[]
  notes: string[]
}

/** A lock of another migration tool found in this database. */
export interface OtherToolLock {
  tool: string
  kind: 'advisory' | 'table'
  /** The advisory key (decimal), or the lock table for table locks. */
  key: string
  /** Which variant of the tool's key computation matched, e.g. `schema "public", table "schema_migrations"`. */
  variant: string
  state: LockState
  holders: Holder[]
  waiters: Holder[]
  /** Liquibase: its lock row. */
  lockTable?: string
  lockedBy?: string | null
  lockGranted?: string | null
  lockAgeSeconds?: number | null
  notes: string[]
}

export interface RefusalReason {
  code: string
  message: string
}

export interface TerminatedBackend {
  pid: number
  /** Whether the backend was gone when poolctl looked again. */
  exited: boolean
}

export interface TrackingChange {
  requested: 'install' | 'remove'
  result: 'already-installed' | 'installed' | 'not-installed' | 'removed' | 'would-install' | 'would-remove' | 'refused'
}

/** What `poolctl unlock-migrations` prints with --json. */
export interface UnlockReport extends KnexDiagnosis {
  action: Action
  /** What was (or, with --dry-run, would be) done, one step a line. */
  plan: string[]
  reason: RefusalReason | null
  forced: boolean
  terminated: TerminatedBackend | null
  /** The knex lock's state after the action (same as `state` when nothing was done). */
  stateAfter: LockState
  rowsBefore: number | null
  rowsAfter: number | null
  trackingChange: TrackingChange | null
  otherTools: OtherToolLock[]
  /** Tools whose keys/tables were checked. */
  checkedTools: string[]
  /** Seconds spent waiting (--wait). */
  waitedSeconds: number
  exitCode: number
}
