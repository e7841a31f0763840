/**
 * The live terminal UI of `poolctl simulate`. Components render only from their props; the state lives
 * in the engine (`Simulation.snapshot()`), and ui/live.ts decides whether ink is used at all.
 */
import {Box, Text} from 'ink'

import type {Snapshot} from '../engine.js'
import type {Summary} from '../histogram.js'
import {sparkline} from '../progress.js'

const BAR_WIDTH = 30
const CHART_WIDTH = 60

/** `used` of `max` as a bar; an unbounded max draws no bar. */
export function Gauge({label, used, max}: {label: string; used: number; max: number}) {
  const bounded = Number.isFinite(max) && max > 0
  const filled = bounded ? Math.min(BAR_WIDTH, Math.round((used / max) * BAR_WIDTH)) : 0
  const color = bounded && used >= max ? 'red' : bounded && used / max > 0.8 ? 'yellow' : 'green'
  return (
    <Box>
      <Box width={12}>
        <Text>{label}</Text>
      </Box>
      {bounded ? (
        <Text color={color}>
          {'█'.repeat(filled)}
          <Text dimColor>{'░'.repeat(BAR_WIDTH - filled)}</Text>
        </Text>
      ) : null}
      <Text>
        {' '}
        {used}/{bounded ? max : '∞'}
      </Text>
    </Box>
  )
}

export function Counters({snapshot}: {snapshot: Snapshot}) {
  const {totals} = snapshot
  return (
    <Box gap={2}>
      <Text>accepted {totals.submitted - totals.rejected}</Text>
      <Text color={totals.rejected > 0 ? 'yellow' : undefined}>rejected {totals.rejected}</Text>
      <Text>completed {totals.completed}</Text>
      <Text color={totals.failed > 0 ? 'red' : undefined}>failed {totals.failed}</Text>
      <Text color={totals.timedOut > 0 ? 'red' : undefined}>timed out {totals.timedOut}</Text>
      <Text>dead-lettered {totals.deadLettered}</Text>
    </Box>
  )
}

function LatencyRow({label, summary}: {label: string; summary: Summary}) {
  return (
    <Box>
      <Box width={12}>
        <Text>{label}</Text>
      </Box>
      <Text>
        p50 {summary.p50.toFixed(1)} ms p95 {summary.p95.toFixed(1)} ms p99 {summary.p99.toFixed(1)} ms
      </Text>
    </Box>
  )
}

export function Latency({snapshot}: {snapshot: Snapshot}) {
  return (
    <Box flexDirection="column">
      <LatencyRow label="queue wait" summary={snapshot.queueWaitMs} />
      <LatencyRow label="service" summary={snapshot.serviceMs} />
      <LatencyRow label="total" summary={snapshot.latencyMs} />
    </Box>
  )
}

export function History({snapshot}: {snapshot: Snapshot}) {
  const depth = snapshot.history.map((sample) => sample.queueDepth)
  const latency = snapshot.history.map((sample) => sample.latencyMs)
  return (
    <Box flexDirection="column">
      <Text>
        queue depth <Text color="cyan">{sparkline(depth, CHART_WIDTH)}</Text> max {Math.max(0, ...depth)}
      </Text>
      <Text>
        latency{'     '}
        <Text color="magenta">{sparkline(latency, CHART_WIDTH)}</Text> max {Math.round(Math.max(0, ...latency))} ms
      </Text>
    </Box>
  )
}

export function Dashboard({snapshot, title}: {snapshot: Snapshot; title: string}) {
  const elapsed = (snapshot.elapsedMs / 1000).toFixed(1)
  const total = (snapshot.durationMs / 1000).toFixed(0)
  const breakerColor = snapshot.breaker === 'open' ? 'red' : snapshot.breaker === 'half-open' ? 'yellow' : undefined
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>
        {title} · {elapsed}s / {total}s · offered {Math.round(snapshot.offeredRate)}/s · throughput {snapshot.throughputPerSec}/s · breaker{' '}
        <Text color={breakerColor}>{snapshot.breaker}</Text>
      </Text>
      <Gauge label="pool in use" used={snapshot.pool.inUse} max={snapshot.pool.max} />
      <Text dimColor>{'            '}idle {snapshot.pool.idle} · waiting for a connection {snapshot.pool.pending}</Text>
      <Gauge label="queue" used={snapshot.queue.depth} max={snapshot.queue.bound} />
      <Counters snapshot={snapshot} />
      <Latency snapshot={snapshot} />
      <History snapshot={snapshot} />
      <Text dimColor>{snapshot.finished ? 'finished' : 'q or Ctrl-C: stop (aborts the queue, closes every connection)'}</Text>
    </Box>
  )
}
