/**
 * The data `poolctl inspect` produces: what `--json` prints, what the table, prometheus and watch
 * renderers draw. Every key here is part of the documented JSON contract (docs/inspect.md, "JSON
 * keys"): add keys freely, never rename or remove one without bumping `schemaVersion`.
 */

export const INSPECT_SCHEMA_VERSION = 1

export type Severity = 'info' | 'warning' | 'critical'
export type Status = 'ok' | 'warning' | 'critical'

/** One problem or piece of advice, as data. `info` findings never change the status. */
export interface Finding {
  severity: Severity
  /** Stable, SCREAMING_SNAKE_CASE; see FindingCode. */
  code: string
  /** One line for humans. Never contains a password. */
  message: string
  /** Backends the finding is about (e.g. the root blocker first); empty when none. */
  pids: number[]
}

/** Thresholds in force for this snapshot (flags or their defaults). */
export interface Thresholds {
  /** Connection use, % of usable slots, at which the status becomes warning. */
  warnPercent: number
  /** … and critical. */
  critPercent: number
  longQuerySeconds: number
  idleInTransactionSeconds: number
  lockWaitSeconds: number
}

/** Client backends by state. Sums to `totals.clientConnections`. */
export interface StateCounts {
  active: number
  idle: number
  idleInTransaction: number
  idleInTransactionAborted: number
  /** fastpath function call, disabled, starting, or a state this version does not know. */
  other: number
  /** Sessions of other roles whose state this role may not read (no pg_read_all_stats). */
  hidden: number
}

/** One row of byApplication / byUser / byDatabase / byClientAddress. */
export interface GroupCount extends StateCounts {
  /** The application_name / user / database / client address; '' when the session set none. */
  name: string
  total: number
}

/** A session named by a problem. Ages in seconds; null when unknown (hidden, or not in a transaction). */
export interface SessionRef {
  pid: number
  applicationName: string | null
  user: string | null
  database: string | null
  clientAddress: string | null
  state: string | null
  /** now() − query_start. */
  queryAgeSeconds: number | null
  /** now() − xact_start. */
  transactionAgeSeconds: number | null
  /** now() − state_change. */
  stateAgeSeconds: number | null
  waitEventType: string | null
  waitEvent: string | null
  /** The statement, cut to QUERY_TEXT_LIMIT characters; '<insufficient privilege>' for hidden sessions. */
  query: string | null
}

export interface LongQuery extends SessionRef {
  ageSeconds: number
}

export interface IdleInTransaction extends SessionRef {
  /** Aged by state_change (how long it has been idle), not xact_start. */
  ageSeconds: number
}

export interface LockWait extends SessionRef {
  /** Time waiting for the lock: pg_locks.waitstart (PG 14+), else since the statement started. */
  waitSeconds: number
  /** pg_blocking_pids(pid): the sessions it waits for directly. 0 = a prepared transaction. */
  blockedBy: number[]
  /** pid, its first blocker, that one's first blocker, … up to a session that waits for no lock. */
  chain: number[]
  /** Every session at the end of a chain from this one (usually one). */
  rootBlockerPids: number[]
  /** The first root blocker, with what is known about it (null fields when hidden or gone). */
  rootBlocker: SessionRef
}

export interface ServerTimeouts {
  /** statement_timeout as this role and database get it (server, database and role settings), ms; 0 = off. */
  statementTimeoutMs: number
  idleInTransactionSessionTimeoutMs: number
  /** PG 14+; null before. */
  idleSessionTimeoutMs: number | null
}

export interface ServerInfo {
  version: string
  versionNum: number
  maxConnections: number
  superuserReservedConnections: number
  /** PG 16+ `reserved_connections`; 0 before. */
  reservedConnections: number
  /** maxConnections − superuserReservedConnections − reservedConnections: what ordinary roles can use. */
  usableConnections: number
  timeouts: ServerTimeouts
}

export interface RoleInfo {
  user: string
  database: string
  superuser: boolean
  /** Member of pg_read_all_stats (or pg_monitor), or superuser: sees every session's state and query. */
  canReadAllStats: boolean
  /** Sessions of other roles whose details are hidden from this role. */
  hiddenSessions: number
  /** The statement that lets this role see them; null when nothing is hidden. */
  grant: string | null
}

export interface Totals {
  /** Client backends, poolctl's own session excluded, hidden ones included. */
  clientConnections: number
  /** Slots counted against usableConnections: client connections (+ walsenders before PG 12). */
  slotsUsed: number
  /** slotsUsed / usableConnections × 100, one decimal. */
  usedPercent: number
  /** usableConnections − slotsUsed (negative when superusers ate into the reserve). */
  freeSlots: number
  byState: StateCounts
  /** sum(pg_stat_database.numbackends) minus poolctl's session: also counts autovacuum and parallel workers. */
  databaseBackends: number
  /** Visible walsenders (PG 12+: they do not use max_connections slots). */
  walSenders: number
}

export interface PoolTimeoutsComparison {
  /** The knexfile connection's own `statement_timeout` (pg client option), ms, or null. */
  clientStatementTimeoutMs: number | null
  /** What the app's sessions run with: the client's, else the server's for this role and database. */
  effectiveStatementTimeoutMs: number
}

/** The app's side, from --knexfile/--env (null without a knexfile). */
export interface PoolReport {
  knexfile: string
  environment: string
  min: number
  max: number
  acquireTimeoutMillis: number
  idleTimeoutMillis: number
  /** Which of min/max/acquireTimeoutMillis/idleTimeoutMillis the knexfile set (the rest are knex defaults). */
  fromKnexfile: string[]
  /** --instances (processes × replicas); 1 when not given. */
  instances: number
  instancesGiven: boolean
  /** max × instances: connections the app opens at peak. */
  demand: number
  /** demand / usableConnections × 100, one decimal. */
  demandPercent: number
  /** The application_name the knexfile's connection sets ('' when none: pg sends none). */
  applicationName: string
  /** Sessions open now with that application_name, for the knexfile's user and database. */
  openSessions: number
  /** Sessions of everyone else that count against the usable slots. */
  otherSessions: number
  timeouts: PoolTimeoutsComparison
}

export interface PostgresReport {
  schemaVersion: typeof INSPECT_SCHEMA_VERSION
  kind: 'postgres'
  /** postgres://user:***@host:port/db */
  target: string
  /** ISO 8601, the server's now(). */
  takenAt: string
  status: Status
  server: ServerInfo
  role: RoleInfo
  thresholds: Thresholds
  totals: Totals
  byApplication: GroupCount[]
  byUser: GroupCount[]
  byDatabase: GroupCount[]
  byClientAddress: GroupCount[]
  longQueries: LongQuery[]
  idleInTransaction: IdleInTransaction[]
  lockWaits: LockWait[]
  oldestTransaction: (SessionRef & {ageSeconds: number}) | null
  pool: PoolReport | null
  findings: Finding[]
}

export interface PgBouncerPool {
  database: string
  user: string
  poolMode: string | null
  clientsActive: number
  clientsWaiting: number
  serversActive: number
  serversIdle: number
  serversUsed: number
  serversTested: number
  serversLogin: number
  /** All server connections of the pool (active + idle + used + tested + login). */
  serverConnections: number
  /** The database's pool_size (SHOW DATABASES); null when unknown. */
  poolSize: number | null
  /** Longest current client wait, seconds. */
  maxWaitSeconds: number
}

export interface PgBouncerDatabase {
  name: string
  host: string | null
  port: number | null
  database: string
  poolSize: number
  minPoolSize: number
  reservePool: number
  poolMode: string | null
  maxConnections: number
  currentConnections: number
  paused: boolean
  disabled: boolean
}

export interface PgBouncerReport {
  schemaVersion: typeof INSPECT_SCHEMA_VERSION
  kind: 'pgbouncer'
  target: string
  takenAt: string
  status: Status
  version: string
  thresholds: Thresholds
  /** SHOW CONFIG max_client_conn. */
  maxClientConnections: number | null
  totals: {
    clients: number
    clientsWaiting: number
    serverConnections: number
    /** clients / maxClientConnections × 100, one decimal (0 when unknown). */
    clientUsedPercent: number
  }
  pools: PgBouncerPool[]
  databases: PgBouncerDatabase[]
  findings: Finding[]
}

export type InspectReport = PgBouncerReport | PostgresReport
