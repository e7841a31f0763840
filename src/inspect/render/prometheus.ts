/**
 * `--format prometheus`: the Prometheus text exposition format (version 0.0.4), every metric a gauge
 * named `poolctl_…`, each family with one HELP and one TYPE line, label values escaped, no series
 * twice. Meant for node_exporter's textfile collector or a scrape wrapper; `promtool check metrics`
 * accepts it (tested when promtool is installed).
 *
 * Per-application, -user and -database series are emitted (their cardinality is the number of
 * distinct names connected now); client addresses and pids are not (unbounded).
 */
import type {Finding, InspectReport, PgBouncerReport, PostgresReport, Severity, StateCounts, Status} from '../types.js'

type Labels = Record<string, string>
interface Sample {
  labels?: Labels
  value: number
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('\n', String.raw`\n`).replaceAll('"', String.raw`\"`)
}

function escapeHelp(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', String.raw`\n`)
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

/** Collects gauge families; refuses bad names and duplicate series rather than emit invalid text. */
export class GaugeWriter {
  readonly #lines: string[] = []
  readonly #families = new Set<string>()

  gauge(name: string, help: string, samples: Sample[]): this {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${name}`)
    if (this.#families.has(name)) throw new Error(`metric family ${name} written twice`)
    this.#families.add(name)
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} gauge`)
    const seen = new Set<string>()
    for (const sample of samples) {
      const labels = Object.entries(sample.labels ?? {})
      for (const [label] of labels) if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new Error(`invalid label name ${label}`)
      const rendered = labels.length === 0 ? '' : `{${labels.map(([key, value]) => `${key}="${escapeLabelValue(value)}"`).join(',')}}`
      if (seen.has(rendered)) throw new Error(`duplicate series ${name}${rendered}`)
      seen.add(rendered)
      this.#lines.push(`${name}${rendered} ${formatValue(sample.value)}`)
    }
    return this
  }

  toString(): string {
    return `${this.#lines.join('\n')}\n`
  }
}

const STATUS_VALUE: Record<Status, number> = {critical: 2, ok: 0, warning: 1}
const SEVERITIES: Severity[] = ['critical', 'warning', 'info']

function common(writer: GaugeWriter, report: InspectReport): void {
  writer
    .gauge('poolctl_up', 'Whether poolctl could read the target (1), see poolctl_status for what it found.', [{value: 1}])
    .gauge('poolctl_status', 'Overall status: 0 ok, 1 warning, 2 critical (the exit code).', [{value: STATUS_VALUE[report.status]}])
    .gauge('poolctl_snapshot_timestamp_seconds', 'When the snapshot was taken (server clock), Unix time.', [{value: Date.parse(report.takenAt) / 1000}])
    .gauge(
      'poolctl_findings',
      'Findings by severity (info findings never change the status).',
      SEVERITIES.map((severity) => ({labels: {severity}, value: countSeverity(report.findings, severity)})),
    )
}

function countSeverity(findings: readonly Finding[], severity: Severity): number {
  return findings.filter((item) => item.severity === severity).length
}

const STATE_LABELS: Record<keyof StateCounts, string> = {
  active: 'active',
  hidden: 'hidden',
  idle: 'idle',
  idleInTransaction: 'idle_in_transaction',
  idleInTransactionAborted: 'idle_in_transaction_aborted',
  other: 'other',
}

function postgres(writer: GaugeWriter, report: PostgresReport): void {
  const {pool, server, totals} = report
  writer
    .gauge('poolctl_server_max_connections', 'max_connections.', [{value: server.maxConnections}])
    .gauge('poolctl_server_superuser_reserved_connections', 'superuser_reserved_connections.', [{value: server.superuserReservedConnections}])
    .gauge('poolctl_server_reserved_connections', 'reserved_connections (PostgreSQL 16+, else 0).', [{value: server.reservedConnections}])
    .gauge('poolctl_server_usable_connections', 'Slots ordinary roles can use: max_connections minus both reserves.', [{value: server.usableConnections}])
    .gauge('poolctl_connection_slots_used', 'Client connections counted against the usable slots (poolctl excluded).', [{value: totals.slotsUsed}])
    .gauge('poolctl_connection_slots_used_ratio', 'Used slots / usable slots (can exceed 1 when superusers use the reserve).', [
      {value: server.usableConnections > 0 ? totals.slotsUsed / server.usableConnections : 1},
    ])
    .gauge(
      'poolctl_client_connections',
      'Client connections by state; "hidden" = other roles\' sessions this role may not read.',
      (Object.keys(STATE_LABELS) as (keyof StateCounts)[]).map((key) => ({labels: {state: STATE_LABELS[key]}, value: totals.byState[key]})),
    )
    .gauge('poolctl_database_backends', 'sum(pg_stat_database.numbackends) minus poolctl (includes autovacuum and parallel workers).', [{value: totals.databaseBackends}])
    .gauge(
      'poolctl_application_connections',
      'Client connections by application_name.',
      report.byApplication.map((group) => ({labels: {application_name: group.name}, value: group.total})),
    )
    .gauge('poolctl_user_connections', 'Client connections by user.', report.byUser.map((group) => ({labels: {user: group.name}, value: group.total})))
    .gauge(
      'poolctl_database_connections',
      'Client connections by database.',
      report.byDatabase.map((group) => ({labels: {datname: group.name}, value: group.total})),
    )
    .gauge('poolctl_long_queries', 'Queries running longer than the --long-query threshold.', [{value: report.longQueries.length}])
    .gauge('poolctl_idle_in_transaction_sessions', 'Sessions idle in transaction longer than --idle-in-transaction.', [{value: report.idleInTransaction.length}])
    .gauge('poolctl_lock_waiting_sessions', 'Sessions waiting for a lock longer than --lock-wait.', [{value: report.lockWaits.length}])
    .gauge('poolctl_lock_wait_max_seconds', 'Longest reported lock wait (0 when none).', [{value: report.lockWaits[0]?.waitSeconds ?? 0}])
    .gauge('poolctl_oldest_transaction_age_seconds', 'Age of the oldest open transaction among visible sessions (0 when none).', [
      {value: report.oldestTransaction?.ageSeconds ?? 0},
    ])
    .gauge('poolctl_hidden_sessions', 'Other roles\' sessions whose state this role may not read (grant pg_read_all_stats).', [{value: report.role.hiddenSessions}])
  if (pool) {
    const labels = {application_name: pool.applicationName}
    writer
      .gauge('poolctl_pool_max_connections', 'The app pool\'s max per instance (knexfile).', [{labels, value: pool.max}])
      .gauge('poolctl_pool_min_connections', 'The app pool\'s min per instance (knexfile).', [{labels, value: pool.min}])
      .gauge('poolctl_pool_instances', 'Instances of the app (--instances).', [{labels, value: pool.instances}])
      .gauge('poolctl_pool_demand_connections', 'Peak demand: pool max x instances.', [{labels, value: pool.demand}])
      .gauge('poolctl_pool_open_sessions', 'Sessions open now with the app\'s application_name, user and database.', [{labels, value: pool.openSessions}])
  }
}

function pgbouncer(writer: GaugeWriter, report: PgBouncerReport): void {
  const key = (pool: {database: string; user: string}) => ({database: pool.database, user: pool.user})
  writer
    .gauge('poolctl_pgbouncer_max_client_connections', 'PgBouncer max_client_conn (NaN when unknown).', [{value: report.maxClientConnections ?? Number.NaN}])
    .gauge('poolctl_pgbouncer_client_connections_used_ratio', 'Client connections / max_client_conn.', [{value: report.totals.clientUsedPercent / 100}])
    .gauge(
      'poolctl_pgbouncer_clients',
      'Clients per pool by state (active, waiting).',
      report.pools.flatMap((pool) => [
        {labels: {...key(pool), state: 'active'}, value: pool.clientsActive},
        {labels: {...key(pool), state: 'waiting'}, value: pool.clientsWaiting},
      ]),
    )
    .gauge(
      'poolctl_pgbouncer_server_connections',
      'Server connections per pool by state.',
      report.pools.flatMap((pool) => [
        {labels: {...key(pool), state: 'active'}, value: pool.serversActive},
        {labels: {...key(pool), state: 'idle'}, value: pool.serversIdle},
        {labels: {...key(pool), state: 'used'}, value: pool.serversUsed},
        {labels: {...key(pool), state: 'tested'}, value: pool.serversTested},
        {labels: {...key(pool), state: 'login'}, value: pool.serversLogin},
      ]),
    )
    .gauge('poolctl_pgbouncer_max_wait_seconds', 'Longest current client wait per pool.', report.pools.map((pool) => ({labels: key(pool), value: pool.maxWaitSeconds})))
    .gauge('poolctl_pgbouncer_pool_size', 'pool_size per database (SHOW DATABASES).', report.databases.map((db) => ({labels: {database: db.name}, value: db.poolSize})))
}

export function renderPrometheus(report: InspectReport): string {
  const writer = new GaugeWriter()
  common(writer, report)
  if (report.kind === 'pgbouncer') pgbouncer(writer, report)
  else postgres(writer, report)
  return writer.toString()
}

/** What `--format prometheus` prints when poolctl could not read the target (exit 3). */
export function renderPrometheusDown(): string {
  return new GaugeWriter().gauge('poolctl_up', 'Whether poolctl could read the target (1), see poolctl_status for what it found.', [{value: 0}]).toString()
}
