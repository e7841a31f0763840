/**
 * The human output of `poolctl inspect`: a status line, tables drawn with the project's one table
 * renderer, and the findings. The same text is what `--watch` prints per interval when stdout is not
 * a terminal, so it must never contain escape codes.
 */
import {renderTable} from '../../render/table.js'
import {displayName, formatAge, formatPercent, formatThreshold, shortQuery} from '../format.js'
import type {Finding, GroupCount, InspectReport, PgBouncerReport, PostgresReport} from '../types.js'

/** Rows shown per grouping table; the JSON has them all. */
export const TOP_ROWS = 10

export function renderText(report: InspectReport): string {
  return report.kind === 'pgbouncer' ? renderPgBouncerText(report) : renderPostgresText(report)
}

export function statusLine(report: InspectReport): string {
  const what = report.kind === 'pgbouncer' ? report.version : `PostgreSQL ${report.server.version}`
  return `poolctl inspect ${report.target} · ${what} · ${report.takenAt} · status ${report.status.toUpperCase()}`
}

function more(rows: number, shown: number): string {
  return rows > shown ? `(top ${shown} of ${rows}; --json has all)` : ''
}

function topGroups(title: string, column: string, groups: GroupCount[]): string {
  const rows = groups.slice(0, TOP_ROWS).map((group) => [displayName(group.name), group.total, group.active, group.idle, group.idleInTransaction + group.idleInTransactionAborted, group.other, group.hidden])
  return renderTable([column, 'total', 'active', 'idle', 'idle in tx', 'other', 'hidden'], rows, {
    numeric: [1, 2, 3, 4, 5, 6],
    title: [title, more(groups.length, TOP_ROWS)].filter(Boolean).join(' '),
  })
}

/** Users, databases and client addresses side by side: name and count each. */
function whoTable(report: PostgresReport): string {
  const columns = [report.byUser, report.byDatabase, report.byClientAddress]
  const height = Math.min(TOP_ROWS, Math.max(...columns.map((groups) => groups.length)))
  const rows: (string | number)[][] = []
  for (let i = 0; i < height; i++) {
    rows.push(columns.flatMap((groups) => (groups[i] ? [displayName(groups[i].name), groups[i].total] : ['', ''])))
  }
  return renderTable(['user', 'n', 'database', 'n', 'client address', 'n'], rows, {numeric: [1, 3, 5], title: 'By user, database and client address'})
}

export function renderFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'Findings: none, all within thresholds.'
  const width = Math.max(...findings.map((item) => item.code.length))
  return ['Findings', ...findings.map((item) => `  ${item.severity.toUpperCase().padEnd(8)} ${item.code.padEnd(width)}  ${item.message}`)].join('\n')
}

export function renderPostgresText(report: PostgresReport): string {
  const {server, thresholds, totals} = report
  const parts: string[] = [statusLine(report)]
  parts.push(
    renderTable(
      ['max_connections', 'superuser reserved', 'reserved', 'usable', 'in use', 'free', 'used'],
      [[server.maxConnections, server.superuserReservedConnections, server.reservedConnections, server.usableConnections, totals.slotsUsed, totals.freeSlots, formatPercent(totals.usedPercent)]],
      {numeric: [0, 1, 2, 3, 4, 5, 6], title: `Connections (warn at ${thresholds.warnPercent} %, critical at ${thresholds.critPercent} % of usable slots; poolctl's own session not counted)`},
    ),
  )
  const s = totals.byState
  parts.push(
    renderTable(
      ['active', 'idle', 'idle in tx', 'idle in tx (aborted)', 'other', 'hidden', 'total'],
      [[s.active, s.idle, s.idleInTransaction, s.idleInTransactionAborted, s.other, s.hidden, totals.clientConnections]],
      {numeric: [0, 1, 2, 3, 4, 5, 6], title: 'Client connections by state'},
    ),
  )
  if (report.byApplication.length > 0) {
    parts.push(topGroups('By application', 'application_name', report.byApplication), whoTable(report))
  }
  if (report.longQueries.length > 0) {
    parts.push(
      renderTable(
        ['pid', 'application', 'user', 'running', 'query'],
        report.longQueries.slice(0, TOP_ROWS).map((item) => [item.pid, displayName(item.applicationName), item.user, formatAge(item.ageSeconds), shortQuery(item.query)]),
        {numeric: [0], title: `Queries running longer than ${formatThreshold(thresholds.longQuerySeconds)} ${more(report.longQueries.length, TOP_ROWS)}`.trim()},
      ),
    )
  }
  if (report.idleInTransaction.length > 0) {
    parts.push(
      renderTable(
        ['pid', 'application', 'user', 'idle for', 'transaction', 'last query'],
        report.idleInTransaction
          .slice(0, TOP_ROWS)
          .map((item) => [item.pid, displayName(item.applicationName), item.user, formatAge(item.ageSeconds), formatAge(item.transactionAgeSeconds), shortQuery(item.query, 50)]),
        {numeric: [0], title: `Idle in transaction longer than ${formatThreshold(thresholds.idleInTransactionSeconds)} ${more(report.idleInTransaction.length, TOP_ROWS)}`.trim()},
      ),
    )
  }
  if (report.lockWaits.length > 0) {
    parts.push(
      renderTable(
        ['pid', 'application', 'waiting', 'blocked by', 'chain', 'root blocker', 'root blocker query'],
        report.lockWaits.slice(0, TOP_ROWS).map((item) => [
          item.pid,
          displayName(item.applicationName),
          formatAge(item.waitSeconds),
          item.blockedBy.join(', '),
          item.chain.join(' → '),
          `${item.rootBlocker.pid} ${displayName(item.rootBlocker.applicationName)}${item.rootBlocker.state ? ` (${item.rootBlocker.state})` : ''}`,
          shortQuery(item.rootBlocker.query, 40),
        ]),
        {numeric: [0], title: `Waiting for a lock longer than ${formatThreshold(thresholds.lockWaitSeconds)} ${more(report.lockWaits.length, TOP_ROWS)}`.trim()},
      ),
    )
  }
  if (report.oldestTransaction) {
    const oldest = report.oldestTransaction
    parts.push(
      `Oldest open transaction: pid ${oldest.pid} (${displayName(oldest.applicationName)}, ${oldest.user ?? '?'}), ${formatAge(oldest.ageSeconds)}, ${oldest.state ?? '?'}: ${shortQuery(oldest.query)}`,
    )
  }
  if (report.pool) {
    const pool = report.pool
    parts.push(
      renderTable(
        ['min', 'max', 'instances', 'peak demand', 'of usable', 'open now', 'others now', 'acquire timeout', 'idle timeout', 'statement_timeout'],
        [[
          pool.min,
          pool.max,
          pool.instancesGiven ? pool.instances : `${pool.instances} (assumed)`,
          pool.demand,
          formatPercent(pool.demandPercent),
          pool.openSessions,
          pool.otherSessions,
          formatAge(pool.acquireTimeoutMillis / 1000),
          formatAge(pool.idleTimeoutMillis / 1000),
          pool.timeouts.effectiveStatementTimeoutMs === 0 ? 'off' : formatAge(pool.timeouts.effectiveStatementTimeoutMs / 1000),
        ]],
        {numeric: [0, 1, 3, 5, 6], title: `App pool (${pool.knexfile}, ${pool.environment}; application_name ${displayName(pool.applicationName)})`},
      ),
    )
  }
  if (report.role.grant) {
    parts.push(`${report.role.hiddenSessions} sessions of other roles are hidden from "${report.role.user}". To see them: ${report.role.grant}`)
  }
  parts.push(renderFindings(report.findings))
  return parts.join('\n\n')
}

export function renderPgBouncerText(report: PgBouncerReport): string {
  const parts: string[] = [statusLine(report)]
  parts.push(
    renderTable(
      ['clients', 'waiting', 'max_client_conn', 'used', 'server connections'],
      [[report.totals.clients, report.totals.clientsWaiting, report.maxClientConnections ?? '?', formatPercent(report.totals.clientUsedPercent), report.totals.serverConnections]],
      {numeric: [0, 1, 2, 3, 4], title: 'PgBouncer clients'},
    ),
  )
  parts.push(
    report.pools.length === 0
      ? 'Pools: none yet (PgBouncer creates a pool on the first client of a database/user).'
      : renderTable(
          ['database', 'user', 'mode', 'clients active', 'waiting', 'longest wait', 'servers active', 'idle', 'used', 'tested', 'login', 'pool_size'],
          report.pools.map((pool) => [
            pool.database,
            pool.user,
            pool.poolMode,
            pool.clientsActive,
            pool.clientsWaiting,
            formatAge(pool.maxWaitSeconds),
            pool.serversActive,
            pool.serversIdle,
            pool.serversUsed,
            pool.serversTested,
            pool.serversLogin,
            pool.poolSize,
          ]),
          {numeric: [3, 4, 6, 7, 8, 9, 10, 11], title: 'Pools (SHOW POOLS)'},
        ),
  )
  if (report.databases.length > 0) {
    parts.push(
      renderTable(
        ['name', 'host', 'port', 'database', 'pool_size', 'min_pool_size', 'reserve_pool', 'max_connections', 'current', 'paused'],
        report.databases.map((db) => [db.name, db.host, db.port, db.database, db.poolSize, db.minPoolSize, db.reservePool, db.maxConnections, db.currentConnections, db.paused || db.disabled ? 'yes' : 'no']),
        {numeric: [2, 4, 5, 6, 7, 8], title: 'Databases (SHOW DATABASES)'},
      ),
    )
  }
  parts.push(renderFindings(report.findings))
  return parts.join('\n\n')
}
