/**
 * The ink components of `poolctl inspect --watch`. They render only from their props (a WatchState or
 * a slice of a report); the refresh loop and the keyboard live elsewhere. Loaded lazily, only when
 * stdout and stdin are a terminal.
 */
import {Box, Text, useInput} from 'ink'

import {Meter, Sparkline} from '../../ui/meter.js'
import {displayName, formatAge, formatPercent, shortQuery} from '../format.js'
import type {Finding, GroupCount, PgBouncerReport, PostgresReport, StateCounts, Status, Thresholds} from '../types.js'
import type {WatchState} from './state.js'

/** Rows of the top-applications and pools lists. */
export const WATCH_TOP_ROWS = 8
const BAR_WIDTH = 30

const STATUS_COLOR: Record<Status, string> = {critical: 'red', ok: 'green', warning: 'yellow'}

function clock(date: Date | undefined): string {
  return date === undefined ? '--:--:--' : `${date.toISOString().slice(11, 19)}Z`
}

export function Header({state}: {state: WatchState}) {
  const {report} = state
  const what = report === undefined ? '' : report.kind === 'pgbouncer' ? report.version : `PostgreSQL ${report.server.version}`
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between">
        <Text>
          <Text bold>poolctl inspect</Text> {state.target} {what}
        </Text>
        {report && (
          <Text bold color={STATUS_COLOR[report.status]}>
            {report.status.toUpperCase()}
          </Text>
        )}
      </Box>
      <Text dimColor>
        refreshed {clock(state.updatedAt)} · every {state.intervalSeconds} s · q to quit
      </Text>
      {state.error !== undefined && (
        <Text color="red">
          refresh failed at {clock(state.errorAt)}: {state.error} (showing the snapshot of {clock(state.updatedAt)})
        </Text>
      )}
    </Box>
  )
}

export function Utilisation(props: {label: string; used: number; of: number; percent: number; thresholds: Thresholds; history: readonly number[]}) {
  return (
    <Box>
      <Box width={13}>
        <Text bold>{props.label}</Text>
      </Box>
      <Meter critAt={props.thresholds.critPercent} percent={props.percent} warnAt={props.thresholds.warnPercent} width={BAR_WIDTH} />
      <Text>
        {' '}
        {props.used} / {props.of} ({formatPercent(props.percent)}){' '}
      </Text>
      <Sparkline values={props.history} />
    </Box>
  )
}

export function StateBreakdown({counts}: {counts: StateCounts}) {
  const parts: Array<[string, number]> = [
    ['active', counts.active],
    ['idle', counts.idle],
    ['idle in tx', counts.idleInTransaction],
    ['aborted', counts.idleInTransactionAborted],
    ['other', counts.other],
    ['hidden', counts.hidden],
  ]
  return (
    <Box>
      <Box width={13}>
        <Text bold>By state</Text>
      </Box>
      <Text>{parts.map(([label, value]) => `${label} ${value}`).join(' · ')}</Text>
    </Box>
  )
}

export function TopApplications({groups, limit = WATCH_TOP_ROWS}: {groups: readonly GroupCount[]; limit?: number}) {
  const shown = groups.slice(0, limit)
  return (
    <Box flexDirection="column">
      <Text bold>
        Top applications{groups.length > limit ? ` (${limit} of ${groups.length})` : ''}
      </Text>
      {shown.length === 0 && <Text dimColor>  no client connections</Text>}
      {shown.map((group) => (
        <Text key={group.name}>
          {'  '}
          {displayName(group.name).slice(0, 28).padEnd(28)} {String(group.total).padStart(5)}   active {group.active} · idle {group.idle} · idle in tx{' '}
          {group.idleInTransaction + group.idleInTransactionAborted}
          {group.hidden > 0 ? ` · hidden ${group.hidden}` : ''}
        </Text>
      ))}
    </Box>
  )
}

const SEVERITY_COLOR: Record<Finding['severity'], string> = {critical: 'red', info: 'gray', warning: 'yellow'}

export function Problems({findings}: {findings: readonly Finding[]}) {
  return (
    <Box flexDirection="column">
      <Text bold>Problems</Text>
      {findings.length === 0 && <Text color="green">  none: all within thresholds</Text>}
      {findings.map((item, index) => (
        <Text key={`${item.code}-${index}`} wrap="truncate-end">
          {'  '}
          <Text color={SEVERITY_COLOR[item.severity]}>{item.severity.toUpperCase().padEnd(8)}</Text> {item.code}: {item.message}
        </Text>
      ))}
    </Box>
  )
}

function PostgresView({history, report}: {history: readonly number[]; report: PostgresReport}) {
  const blockers = report.lockWaits.slice(0, 3)
  return (
    <Box flexDirection="column" gap={1}>
      <Box flexDirection="column">
        <Utilisation
          history={history}
          label="Connections"
          of={report.server.usableConnections}
          percent={report.totals.usedPercent}
          thresholds={report.thresholds}
          used={report.totals.slotsUsed}
        />
        <Text dimColor>
          {'             '}usable = max_connections {report.server.maxConnections} − superuser reserved {report.server.superuserReservedConnections} − reserved{' '}
          {report.server.reservedConnections}
        </Text>
        <StateBreakdown counts={report.totals.byState} />
      </Box>
      <TopApplications groups={report.byApplication} />
      {blockers.length > 0 && (
        <Box flexDirection="column">
          <Text bold>Lock waits</Text>
          {blockers.map((wait) => (
            <Text key={wait.pid} wrap="truncate-end">
              {'  '}pid {wait.pid} ({displayName(wait.applicationName)}) waiting {formatAge(wait.waitSeconds)}: {wait.chain.join(' → ')} · root {wait.rootBlocker.pid}{' '}
              {wait.rootBlocker.state ?? ''} {shortQuery(wait.rootBlocker.query, 40)}
            </Text>
          ))}
        </Box>
      )}
      <Problems findings={report.findings} />
    </Box>
  )
}

function PgBouncerView({history, report}: {history: readonly number[]; report: PgBouncerReport}) {
  return (
    <Box flexDirection="column" gap={1}>
      <Box flexDirection="column">
        <Utilisation
          history={history}
          label="Clients"
          of={report.maxClientConnections ?? 0}
          percent={report.totals.clientUsedPercent}
          thresholds={report.thresholds}
          used={report.totals.clients}
        />
        <Text>
          {'             '}waiting {report.totals.clientsWaiting} · server connections {report.totals.serverConnections}
        </Text>
      </Box>
      <Box flexDirection="column">
        <Text bold>Pools</Text>
        {report.pools.length === 0 && <Text dimColor>  none yet</Text>}
        {report.pools.slice(0, WATCH_TOP_ROWS).map((pool) => (
          <Text key={`${pool.database}/${pool.user}`}>
            {'  '}
            {`${pool.database}/${pool.user}`.slice(0, 28).padEnd(28)} clients {pool.clientsActive} active, {pool.clientsWaiting} waiting (longest {formatAge(pool.maxWaitSeconds)}) ·
            servers {pool.serverConnections}/{pool.poolSize ?? '?'}
          </Text>
        ))}
      </Box>
      <Problems findings={report.findings} />
    </Box>
  )
}

/** The whole screen for one state. */
export function WatchScreen({state}: {state: WatchState}) {
  const {report} = state
  return (
    <Box flexDirection="column" gap={1}>
      <Header state={state} />
      {report === undefined && <Text dimColor>taking the first snapshot…</Text>}
      {report?.kind === 'postgres' && <PostgresView history={state.history} report={report} />}
      {report?.kind === 'pgbouncer' && <PgBouncerView history={state.history} report={report} />}
    </Box>
  )
}

/** WatchScreen plus the keyboard: `q` (or Escape) calls onQuit; Ctrl-C is ink's own exit. */
export function WatchApp({onQuit, state}: {onQuit: () => void; state: WatchState}) {
  useInput((input, key) => {
    if (input === 'q' || input === 'Q' || key.escape) onQuit()
  })
  return <WatchScreen state={state} />
}
