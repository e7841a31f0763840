import {finding, severityForPercent, sortFindings, statusOf} from './findings.js'
import {formatAge, formatPercent, round1} from './format.js'
import type {PgBouncerSnapshot} from './snapshot.js'
import {type Finding, INSPECT_SCHEMA_VERSION, type PgBouncerDatabase, type PgBouncerPool, type PgBouncerReport, type Thresholds} from './types.js'

/**
 * PgBouncer's SHOW output, read by column name: columns come and go between versions (1.18 has
 * cl_active_cancel_req, 1.21 adds sv_login changes…), so a missing one reads as 0 / null.
 */
function int(row: Record<string, unknown>, key: string): number {
  const value = Number(row[key] ?? 0)
  return Number.isFinite(value) ? value : 0
}

function text(row: Record<string, unknown>, key: string): string | null {
  const value = row[key]
  return value === null || value === undefined || value === '' ? null : String(value)
}

/** The admin console's own pseudo-database is not a pool anyone waits on. */
const ADMIN_DATABASE = 'pgbouncer'

export function analysePgBouncer(snapshot: PgBouncerSnapshot, context: {target: string; thresholds: Thresholds}): PgBouncerReport {
  const {thresholds} = context
  const databases: PgBouncerDatabase[] = snapshot.databases
    .filter((row) => text(row, 'name') !== ADMIN_DATABASE)
    .map((row) => ({
      name: text(row, 'name') ?? '',
      host: text(row, 'host'),
      port: row.port === null || row.port === undefined ? null : int(row, 'port'),
      database: text(row, 'database') ?? '',
      poolSize: int(row, 'pool_size'),
      minPoolSize: int(row, 'min_pool_size'),
      reservePool: int(row, 'reserve_pool'),
      poolMode: text(row, 'pool_mode'),
      maxConnections: int(row, 'max_connections'),
      currentConnections: int(row, 'current_connections'),
      paused: int(row, 'paused') !== 0,
      disabled: int(row, 'disabled') !== 0,
    }))
  const poolSizeOf = new Map(databases.map((db) => [db.name, db.poolSize]))
  const pools: PgBouncerPool[] = snapshot.pools
    .filter((row) => text(row, 'database') !== ADMIN_DATABASE)
    .map((row) => {
      const database = text(row, 'database') ?? ''
      const serversActive = int(row, 'sv_active')
      const serversIdle = int(row, 'sv_idle')
      const serversUsed = int(row, 'sv_used')
      const serversTested = int(row, 'sv_tested')
      const serversLogin = int(row, 'sv_login')
      return {
        database,
        user: text(row, 'user') ?? '',
        poolMode: text(row, 'pool_mode'),
        clientsActive: int(row, 'cl_active'),
        clientsWaiting: int(row, 'cl_waiting'),
        serversActive,
        serversIdle,
        serversUsed,
        serversTested,
        serversLogin,
        serverConnections: serversActive + serversIdle + serversUsed + serversTested + serversLogin,
        poolSize: poolSizeOf.get(database) ?? null,
        maxWaitSeconds: int(row, 'maxwait') + int(row, 'maxwait_us') / 1e6,
      }
    })
    .sort((a, b) => b.clientsWaiting - a.clientsWaiting || a.database.localeCompare(b.database) || a.user.localeCompare(b.user))

  const configRow = snapshot.config.find((row) => row.key === 'max_client_conn')
  const maxClientConnections = configRow ? Number(configRow.value) : null
  // The admin console's own clients (this one included) count toward max_client_conn too.
  const clients = snapshot.pools.reduce((sum, row) => sum + int(row, 'cl_active') + int(row, 'cl_waiting'), 0)
  const clientsWaiting = pools.reduce((sum, pool) => sum + pool.clientsWaiting, 0)
  const clientUsedExact = maxClientConnections ? (clients / maxClientConnections) * 100 : 0

  const findings: Finding[] = []
  for (const pool of pools.filter((item) => item.clientsWaiting > 0)) {
    findings.push(
      finding(
        'warning',
        'PGBOUNCER_CLIENTS_WAITING',
        `${pool.clientsWaiting} client${pool.clientsWaiting === 1 ? '' : 's'} waiting for a server connection in pool ${pool.database}/${pool.user} ` +
          `(longest ${formatAge(pool.maxWaitSeconds)}; ${pool.serverConnections} server connections, pool_size ${pool.poolSize ?? '?'})`,
      ),
    )
  }
  const usage = severityForPercent(clientUsedExact, thresholds.warnPercent, thresholds.critPercent)
  if (usage && maxClientConnections) {
    findings.push(
      finding(usage, 'PGBOUNCER_CLIENT_USAGE', `${clients} of max_client_conn ${maxClientConnections} client connections in use (${formatPercent(clientUsedExact)})`),
    )
  }
  for (const db of databases.filter((item) => item.paused || item.disabled)) {
    findings.push(finding('warning', 'PGBOUNCER_DATABASE_PAUSED', `database ${db.name} is ${db.paused ? 'paused' : 'disabled'}: its clients wait or are refused`))
  }

  const sorted = sortFindings(findings)
  // Key order is the documented order (docs/inspect.md).
  return {
    schemaVersion: INSPECT_SCHEMA_VERSION,
    kind: 'pgbouncer',
    target: context.target,
    takenAt: snapshot.takenAt.toISOString(),
    status: statusOf(sorted),
    version: snapshot.version,
    thresholds,
    maxClientConnections,
    totals: {
      clients,
      clientsWaiting,
      serverConnections: pools.reduce((sum, pool) => sum + pool.serverConnections, 0),
      clientUsedPercent: round1(clientUsedExact),
    },
    pools,
    databases,
    findings: sorted,
  }
}
