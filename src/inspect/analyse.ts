import {quoteIdent} from '../pg/sql.js'
import {finding, severityForPercent, sortFindings, statusOf} from './findings.js'
import {displayName, formatAge, formatPercent, formatThreshold, round1, shortQuery} from './format.js'
import {analysePool, type AppPool} from './pool.js'
import type {ActivityRow, BlockerRow, ServerRow} from './queries.js'
import type {PostgresSnapshot} from './snapshot.js'
import {
  type Finding,
  type GroupCount,
  type IdleInTransaction,
  INSPECT_SCHEMA_VERSION,
  type LockWait,
  type LongQuery,
  type PostgresReport,
  type ServerInfo,
  type SessionRef,
  type StateCounts,
  type Thresholds,
} from './types.js'

export interface AnalyseContext {
  /** Redacted URL of the target. */
  target: string
  thresholds: Thresholds
  /** The app's pool, from --knexfile (undefined without one). */
  pool?: AppPool
}

/** A session that holds (or may hold) a client connection slot. */
export interface ClientSession {
  row: ActivityRow
  /** Its state, the pg_stat_activity value mapped to a StateCounts key. */
  stateKey: keyof StateCounts
  hidden: boolean
}

/**
 * Which rows are client connections. Visible ones say so in backend_type. Hidden ones (another
 * role's, without pg_read_all_stats) have no backend_type: those with a database and a user are
 * counted as client sessions (a parallel worker of another role's query is the one thing that can
 * be mistaken for one), those without are background processes (checkpointer, launchers…).
 */
export function classifySessions(activity: readonly ActivityRow[]): {clients: ClientSession[]; walSenders: number} {
  const clients: ClientSession[] = []
  let walSenders = 0
  for (const row of activity) {
    if (row.backend_type === 'walsender') walSenders++
    else if (row.backend_type === 'client backend') clients.push({hidden: false, row, stateKey: stateKeyOf(row.state)})
    else if (row.backend_type === null && row.datname !== null && row.usename !== null) {
      clients.push({hidden: true, row, stateKey: 'hidden'})
    }
  }
  return {clients, walSenders}
}

function stateKeyOf(state: string | null): keyof StateCounts {
  switch (state) {
    case 'active': {
      return 'active'
    }
    case 'idle': {
      return 'idle'
    }
    case 'idle in transaction': {
      return 'idleInTransaction'
    }
    case 'idle in transaction (aborted)': {
      return 'idleInTransactionAborted'
    }
    default: {
      return 'other'
    }
  }
}

function emptyCounts(): StateCounts {
  return {active: 0, idle: 0, idleInTransaction: 0, idleInTransactionAborted: 0, other: 0, hidden: 0}
}

function groupBy(clients: readonly ClientSession[], keyOf: (session: ClientSession) => string): GroupCount[] {
  const groups = new Map<string, GroupCount>()
  for (const session of clients) {
    const name = keyOf(session)
    let group = groups.get(name)
    if (!group) {
      group = {name, total: 0, ...emptyCounts()}
      groups.set(name, group)
    }
    group.total++
    group[session.stateKey]++
  }
  return [...groups.values()].sort((a, b) => b.total - a.total || a.name.localeCompare(b.name))
}

function clientAddressOf(session: ClientSession): string {
  if (session.hidden) return '(hidden)'
  if (session.row.client_addr !== null) return session.row.client_addr
  return session.row.client_port === -1 ? 'local' : ''
}

export function sessionRef(row: ActivityRow): SessionRef {
  return {
    pid: row.pid,
    applicationName: row.application_name,
    user: row.usename,
    database: row.datname,
    clientAddress: row.client_addr,
    state: row.state,
    queryAgeSeconds: row.query_age,
    transactionAgeSeconds: row.xact_age,
    stateAgeSeconds: row.state_age,
    waitEventType: row.wait_event_type,
    waitEvent: row.wait_event,
    query: row.query,
  }
}

/** A session we know only by pid (it ended, is not a client backend, or is a prepared transaction). */
function unknownSession(pid: number): SessionRef {
  return {
    pid,
    applicationName: null,
    user: null,
    database: null,
    clientAddress: null,
    state: null,
    queryAgeSeconds: null,
    transactionAgeSeconds: null,
    stateAgeSeconds: null,
    waitEventType: null,
    waitEvent: null,
    query: pid === 0 ? '(a prepared transaction)' : null,
  }
}

export function serverInfo(server: ServerRow): ServerInfo {
  const version = server.server_version_num
  const reservedConnections = version >= 160_000 ? Number(server.reserved_connections ?? 0) : 0
  const millis = (value: string | null) => (value === null ? 0 : Number(value))
  return {
    version: server.server_version,
    versionNum: version,
    maxConnections: server.max_connections,
    superuserReservedConnections: server.superuser_reserved_connections,
    reservedConnections,
    usableConnections: server.max_connections - server.superuser_reserved_connections - reservedConnections,
    timeouts: {
      statementTimeoutMs: millis(server.statement_timeout),
      idleInTransactionSessionTimeoutMs: millis(server.idle_in_transaction_session_timeout),
      idleSessionTimeoutMs: version >= 140_000 ? millis(server.idle_session_timeout) : null,
    },
  }
}

/**
 * Lock waits with their blocker chains. `blockers` holds pg_blocking_pids for every session waiting
 * on a lock, so a chain is followed through it until a session that waits for no lock: the root.
 */
function lockWaits(blockers: readonly BlockerRow[], byPid: ReadonlyMap<number, ActivityRow>, thresholds: Thresholds): LockWait[] {
  const blockedBy = new Map(blockers.map((row) => [row.pid, row.blocked_by ?? []]))
  const rootsOf = (pid: number): number[] => {
    const roots = new Set<number>()
    const seen = new Set<number>([pid])
    const stack = [...(blockedBy.get(pid) ?? [])]
    while (stack.length > 0) {
      const next = stack.pop()!
      if (seen.has(next)) continue
      seen.add(next)
      const further = blockedBy.get(next)
      if (further === undefined || further.length === 0) roots.add(next)
      else stack.push(...further)
    }
    return [...roots]
  }
  const chainOf = (pid: number): number[] => {
    const chain = [pid]
    for (let next = blockedBy.get(pid)?.[0]; next !== undefined && !chain.includes(next); next = blockedBy.get(next)?.[0]) {
      chain.push(next)
    }
    return chain
  }
  const waits: LockWait[] = []
  for (const blocker of blockers) {
    const row = byPid.get(blocker.pid)
    if (!row || (blocker.blocked_by ?? []).length === 0) continue // granted meanwhile
    const waitSeconds = blocker.wait_age ?? row.state_age ?? 0
    if (waitSeconds < thresholds.lockWaitSeconds) continue
    const chain = chainOf(blocker.pid)
    const rootBlockerPids = rootsOf(blocker.pid)
    const rootPid = rootBlockerPids.includes(chain.at(-1)!) ? chain.at(-1)! : (rootBlockerPids[0] ?? chain.at(-1)!)
    const rootRow = byPid.get(rootPid)
    waits.push({
      ...sessionRef(row),
      waitSeconds,
      blockedBy: blocker.blocked_by,
      chain,
      rootBlockerPids,
      rootBlocker: rootRow ? sessionRef(rootRow) : unknownSession(rootPid),
    })
  }
  return waits.sort((a, b) => b.waitSeconds - a.waitSeconds)
}

function who(ref: SessionRef): string {
  if (ref.applicationName === null && ref.user === null) return ref.pid === 0 ? 'a prepared transaction' : 'a session poolctl cannot see'
  return `${displayName(ref.applicationName)}, ${ref.user ?? '?'}`
}

/** Turn one snapshot into the report: counts, problems, findings, status. Pure. */
export function analysePostgres(snapshot: PostgresSnapshot, context: AnalyseContext): PostgresReport {
  const {thresholds} = context
  const server = serverInfo(snapshot.server)
  const {clients, walSenders} = classifySessions(snapshot.activity)
  const byPid = new Map(snapshot.activity.map((row) => [row.pid, row]))

  const byState = emptyCounts()
  for (const session of clients) byState[session.stateKey]++
  const hiddenSessions = byState.hidden
  const slotsUsed = clients.length + (server.versionNum < 120_000 ? walSenders : 0)
  const usable = server.usableConnections
  const usedPercentExact = usable > 0 ? (slotsUsed / usable) * 100 : 100
  const byApplication = groupBy(clients, (session) => session.row.application_name ?? '')

  const visible = clients.filter((session) => !session.hidden).map((session) => session.row)
  const waits = lockWaits(snapshot.blockers, byPid, thresholds)
  // A statement stuck behind a lock is reported once, as a lock wait with its blocker.
  const waiting = new Set(waits.map((wait) => wait.pid))
  const longQueries: LongQuery[] = visible
    .filter((row) => row.state === 'active' && !waiting.has(row.pid) && (row.query_age ?? 0) >= thresholds.longQuerySeconds)
    .map((row) => ({...sessionRef(row), ageSeconds: row.query_age ?? 0}))
    .sort((a, b) => b.ageSeconds - a.ageSeconds)
  const idleInTransaction: IdleInTransaction[] = visible
    .filter((row) => row.state?.startsWith('idle in transaction') && (row.state_age ?? 0) >= thresholds.idleInTransactionSeconds)
    .map((row) => ({...sessionRef(row), ageSeconds: row.state_age ?? 0}))
    .sort((a, b) => b.ageSeconds - a.ageSeconds)
  const oldestRow = visible
    .filter((row) => row.xact_age !== null)
    .sort((a, b) => (b.xact_age ?? 0) - (a.xact_age ?? 0))[0]
  const oldestTransaction = oldestRow ? {...sessionRef(oldestRow), ageSeconds: oldestRow.xact_age ?? 0} : null

  const findings: Finding[] = []
  const usage = severityForPercent(usedPercentExact, thresholds.warnPercent, thresholds.critPercent)
  if (usage) {
    const top = byApplication[0]
    findings.push(
      finding(
        usage,
        'CONNECTION_USAGE',
        `${slotsUsed} of ${usable} usable connection slots in use (${formatPercent(usedPercentExact)}; ` +
          `${usage} at ${usage === 'critical' ? thresholds.critPercent : thresholds.warnPercent} %)` +
          (top ? `; most held by ${displayName(top.name)} (${top.total})` : ''),
      ),
    )
  }
  const grant = hiddenSessions > 0 ? `GRANT pg_read_all_stats TO ${quoteIdent(snapshot.server.current_user)};` : null
  if (grant) {
    findings.push(
      finding(
        'warning',
        'HIDDEN_SESSIONS',
        `${hiddenSessions} session${hiddenSessions === 1 ? ' of another role is' : 's of other roles are'} hidden from "${snapshot.server.current_user}" ` +
          `(no pg_read_all_stats): counted, but their state, age and query are unknown and not checked; fix: ${grant}`,
        clients.filter((session) => session.hidden).map((session) => session.row.pid),
      ),
    )
  }
  // One finding per kind of problem, naming the worst session; `pids` lists them all.
  const listFinding = (code: 'IDLE_IN_TRANSACTION' | 'LONG_QUERIES', items: Array<SessionRef & {ageSeconds: number}>, what: string, queryLabel: string) => {
    const [first] = items
    if (!first) return
    findings.push(
      finding(
        'warning',
        code,
        `${what}; longest: pid ${first.pid} (${who(first)}) ${formatAge(first.ageSeconds)}, ${queryLabel}: ${shortQuery(first.query)}`,
        items.map((item) => item.pid),
      ),
    )
  }
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`
  listFinding('LONG_QUERIES', longQueries, `${count(longQueries.length, 'query', 'queries')} running longer than ${formatThreshold(thresholds.longQuerySeconds)}`, 'running')
  listFinding(
    'IDLE_IN_TRANSACTION',
    idleInTransaction,
    `${count(idleInTransaction.length, 'session', 'sessions')} idle in transaction longer than ${formatThreshold(thresholds.idleInTransactionSeconds)}`,
    'last query',
  )
  const byRoot = new Map<number, LockWait[]>()
  for (const wait of waits) byRoot.set(wait.rootBlocker.pid, [...(byRoot.get(wait.rootBlocker.pid) ?? []), wait])
  for (const [rootPid, group] of byRoot) {
    const root = group[0].rootBlocker
    const holding = root.state === null ? '' : `, ${root.state}${root.transactionAgeSeconds === null ? '' : ` in a ${formatAge(root.transactionAgeSeconds)} old transaction`}`
    findings.push(
      finding(
        'warning',
        'LOCK_WAITS',
        `${group.length} session${group.length === 1 ? '' : 's'} waiting longer than ${formatThreshold(thresholds.lockWaitSeconds)} for a lock; ` +
          `root blocker pid ${rootPid} (${who(root)}${holding})${root.query ? `: ${shortQuery(root.query)}` : ''}`,
        [rootPid, ...group.map((wait) => wait.pid)],
      ),
    )
  }
  const reported = new Set([...longQueries, ...idleInTransaction, ...waits].map((item) => item.pid))
  for (const wait of waits) reported.add(wait.rootBlocker.pid)
  if (oldestTransaction && oldestTransaction.ageSeconds >= thresholds.longQuerySeconds && !reported.has(oldestTransaction.pid)) {
    findings.push(
      finding(
        'warning',
        'OLD_TRANSACTION',
        `oldest open transaction: pid ${oldestTransaction.pid} (${who(oldestTransaction)}) open for ${formatAge(oldestTransaction.ageSeconds)}, ` +
          `${oldestTransaction.state ?? 'state unknown'}: it holds back vacuum`,
        [oldestTransaction.pid],
      ),
    )
  }

  const pool = context.pool
    ? analysePool(context.pool, {clients, server, slotsUsed, thresholds})
    : undefined
  if (pool) findings.push(...pool.findings)

  const sorted = sortFindings(findings)
  // Key order is the documented order (docs/inspect.md), so `--json` reads top-down.
  return {
    schemaVersion: INSPECT_SCHEMA_VERSION,
    kind: 'postgres',
    target: context.target,
    takenAt: new Date(snapshot.server.taken_at).toISOString(),
    status: statusOf(sorted),
    server,
    role: {
      user: snapshot.server.current_user,
      database: snapshot.server.current_database,
      superuser: snapshot.server.superuser,
      canReadAllStats: snapshot.server.can_read_all_stats || snapshot.server.superuser,
      hiddenSessions,
      grant,
    },
    thresholds,
    totals: {
      clientConnections: clients.length,
      slotsUsed,
      usedPercent: round1(usedPercentExact),
      freeSlots: usable - slotsUsed,
      byState,
      databaseBackends: Math.max(0, snapshot.server.numbackends - 1),
      walSenders,
    },
    byApplication,
    byUser: groupBy(clients, (session) => session.row.usename ?? ''),
    byDatabase: groupBy(clients, (session) => session.row.datname ?? ''),
    byClientAddress: groupBy(clients, clientAddressOf),
    longQueries,
    idleInTransaction,
    lockWaits: waits,
    oldestTransaction,
    pool: pool?.report ?? null,
    findings: sorted,
  }
}
