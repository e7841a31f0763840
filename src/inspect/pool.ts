import type {ConnectionSettings} from '../pg/connection-settings.js'
import {quoteIdent} from '../pg/sql.js'
import {type KnexPoolSettings, type LoadedKnexfile, readKnexPoolConfig, resolveKnexConnection} from '../knex/knexfile.js'
import type {ClientSession} from './analyse.js'
import {finding, severityForPercent} from './findings.js'
import {formatPercent, round1} from './format.js'
import type {Finding, PoolReport, ServerInfo, Thresholds} from './types.js'

/** The app's side of the comparison, read once from its knexfile. */
export interface AppPool {
  knexfile: string
  environment: string
  pool: KnexPoolSettings
  instances: number
  instancesGiven: boolean
  /** application_name the app's sessions carry ('' when the knexfile sets none). */
  applicationName: string
  /** The knexfile's user and database: whose sessions are the app's. */
  user: string
  database: string
  /** The connection's own `statement_timeout` option (pg), ms. */
  clientStatementTimeoutMs: number | null
}

/**
 * Read the pool settings (knex defaults where absent) and the connection's application_name and
 * statement_timeout. A connection function is called again here, as knex itself calls it for every
 * new connection.
 */
export async function appPoolFromKnexfile(
  loaded: LoadedKnexfile,
  settings: ConnectionSettings,
  instances: number | undefined,
): Promise<AppPool> {
  const pool = readKnexPoolConfig(loaded.config, loaded.path)
  const connection = await resolveKnexConnection(loaded)
  const {applicationName, statementTimeoutMs} = connectionOptions(connection)
  return {
    applicationName,
    clientStatementTimeoutMs: statementTimeoutMs,
    database: settings.database,
    environment: loaded.environment,
    instances: instances ?? 1,
    instancesGiven: instances !== undefined,
    knexfile: loaded.path,
    pool,
    user: settings.user,
  }
}

/** application_name and statement_timeout from a pg connection object or URL (pg's own option names). */
export function connectionOptions(connection: Record<string, unknown> | string): {
  applicationName: string
  statementTimeoutMs: number | null
} {
  const fromUrl = (url: unknown): URLSearchParams | undefined => {
    if (typeof url !== 'string') return undefined
    try {
      return new URL(url).searchParams
    } catch {
      return undefined
    }
  }
  const params = typeof connection === 'string' ? fromUrl(connection) : fromUrl(connection.connectionString)
  const object = typeof connection === 'string' ? {} : connection
  const name = object.application_name ?? params?.get('application_name') ?? ''
  const rawTimeout = object.statement_timeout ?? params?.get('statement_timeout') ?? null
  const timeout = rawTimeout === null || rawTimeout === false ? null : Number(rawTimeout)
  return {
    applicationName: String(name),
    statementTimeoutMs: timeout !== null && Number.isFinite(timeout) && timeout >= 0 ? timeout : null,
  }
}

export interface PoolContext {
  clients: readonly ClientSession[]
  server: ServerInfo
  slotsUsed: number
  thresholds: Thresholds
}

const seconds = (ms: number) => `${round1(ms / 1000)} s`

/** The app's pool against the server: demand, open sessions, timeouts. */
export function analysePool(app: AppPool, context: PoolContext): {report: PoolReport; findings: Finding[]} {
  const {server, thresholds} = context
  const usable = server.usableConnections
  const demand = app.pool.max * app.instances
  const demandPercentExact = usable > 0 ? (demand / usable) * 100 : 100
  const openSessions = context.clients.filter(
    ({row}) => (row.application_name ?? '') === app.applicationName && row.usename === app.user && row.datname === app.database,
  ).length
  const otherSessions = Math.max(0, context.slotsUsed - openSessions)
  const effectiveStatementTimeoutMs = app.clientStatementTimeoutMs ?? server.timeouts.statementTimeoutMs
  const findings: Finding[] = []

  const peak = `pool max ${app.pool.max} × ${app.instances} instance${app.instances === 1 ? '' : 's'}${app.instancesGiven ? '' : ' (pass --instances)'} = ${demand} connections at peak`
  if (demand > usable) {
    findings.push(
      finding('critical', 'POOL_DEMAND', `${peak}, but the server has only ${usable} usable slots: at peak, connections fail with "too many clients"`),
    )
  } else if (demand + otherSessions > usable) {
    findings.push(
      finding(
        'warning',
        'POOL_DEMAND',
        `${peak}; with the ${otherSessions} sessions others hold now, only ${usable - otherSessions} of ${usable} usable slots are left for it`,
      ),
    )
  } else {
    const severity = severityForPercent(demandPercentExact, thresholds.warnPercent, thresholds.critPercent)
    if (severity) {
      findings.push(finding(severity, 'POOL_DEMAND', `${peak}: ${formatPercent(demandPercentExact)} of the ${usable} usable slots`))
    }
  }

  const idleSession = server.timeouts.idleSessionTimeoutMs
  if (idleSession !== null && idleSession > 0 && (app.pool.min > 0 || app.pool.idleTimeoutMillis > idleSession)) {
    findings.push(
      finding(
        'warning',
        'POOL_IDLE_SESSION_TIMEOUT',
        `the server ends sessions idle for ${seconds(idleSession)} (idle_session_timeout), but the pool keeps ` +
          (app.pool.min > 0 ? `${app.pool.min} connections (min) open for ever` : `idle connections for ${seconds(app.pool.idleTimeoutMillis)}`) +
          ': the next query on such a connection fails; lower pool.idleTimeoutMillis below it and set min: 0, or raise idle_session_timeout',
      ),
    )
  }
  if (server.timeouts.idleInTransactionSessionTimeoutMs === 0) {
    findings.push(
      finding(
        'info',
        'NO_IDLE_IN_TRANSACTION_TIMEOUT',
        `idle_in_transaction_session_timeout is off: a transaction the app forgets to end holds its pool connection (and its locks) until the process dies; ` +
          `e.g. ALTER ROLE ${quoteIdent(app.user)} SET idle_in_transaction_session_timeout = '60s';`,
      ),
    )
  }
  if (effectiveStatementTimeoutMs === 0) {
    findings.push(
      finding(
        'info',
        'NO_STATEMENT_TIMEOUT',
        `no statement_timeout for the app's sessions: one slow query holds a pool connection without bound, while callers give up after ` +
          `${seconds(app.pool.acquireTimeoutMillis)} (acquireTimeoutMillis); set connection.statement_timeout in the knexfile`,
      ),
    )
  } else if (effectiveStatementTimeoutMs > app.pool.acquireTimeoutMillis) {
    findings.push(
      finding(
        'info',
        'STATEMENT_TIMEOUT_ABOVE_ACQUIRE',
        `statement_timeout (${seconds(effectiveStatementTimeoutMs)}) is longer than the pool's acquire timeout (${seconds(app.pool.acquireTimeoutMillis)}): ` +
          'callers time out waiting for a connection while slow queries still hold them',
      ),
    )
  }
  if (app.applicationName === '') {
    findings.push(
      finding(
        'info',
        'NO_APPLICATION_NAME',
        `the knexfile's connection sets no application_name: the app's sessions cannot be told apart from other clients of "${app.user}"; ` +
          "set connection.application_name (e.g. 'orders-api')",
      ),
    )
  }

  return {
    findings,
    report: {
      knexfile: app.knexfile,
      environment: app.environment,
      min: app.pool.min,
      max: app.pool.max,
      acquireTimeoutMillis: app.pool.acquireTimeoutMillis,
      idleTimeoutMillis: app.pool.idleTimeoutMillis,
      fromKnexfile: app.pool.fromKnexfile.filter((key) => ['acquireTimeoutMillis', 'idleTimeoutMillis', 'max', 'min'].includes(key)),
      instances: app.instances,
      instancesGiven: app.instancesGiven,
      demand,
      demandPercent: round1(demandPercentExact),
      applicationName: app.applicationName,
      openSessions,
      otherSessions,
      timeouts: {clientStatementTimeoutMs: app.clientStatementTimeoutMs, effectiveStatementTimeoutMs},
    },
  }
}
