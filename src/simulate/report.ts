/**
 * The report of a run: stable JSON (`--json`, `--report FILE`) and the human tables, both built from
 * the same data, plus the recommendations with their reasoning.
 */
import type {Field, SimulationConfig} from './config.js'
import {totalDurationMs} from './config.js'
import type {HistorySample, SimulationResult, Totals} from './engine.js'
import type {Summary} from './histogram.js'

/** Connections above the Little's-law average so bursts queue briefly instead of piling up. */
export const HEADROOM = 1.25
/** Connections of max_connections kept for admins, migrations, monitoring (besides superuser_reserved_connections). */
export const ADMIN_MARGIN = 0.1

export interface Recommendation {
  id: 'connections' | 'queue-size' | 'instances'
  /** The recommended number; null when it cannot be computed (the reasoning says why). */
  value: number | null
  reasoning: string
}

export interface ServerLimits {
  maxConnections: number
  superuserReserved: number
  /** Where maxConnections came from. */
  source: 'flag' | 'server'
}

export interface Report {
  config: Record<string, unknown>
  mode: 'virtual' | 'database'
  stopped: boolean
  totals: Totals
  latencyMs: Summary
  queueWaitMs: Summary
  serviceMs: Summary
  throughputPerSec: number
  peakArrivalsPerSec: number
  maxQueueDepth: number
  maxInUse: number
  retried: number
  breaker: {opened: number; rejected: number} | null
  errors: SimulationResult['errors']
  byPriority: SimulationResult['byPriority']
  byTenant: SimulationResult['byTenant']
  recommendations: Recommendation[]
  history: HistorySample[]
  /** Wall-clock facts: the only part that differs between two runs of the same seed. */
  timing: {simulatedMs: number; wallMs: number; speedup: number | null}
}

export function buildReport(result: SimulationResult, limits: ServerLimits | undefined): Report {
  const {config} = result
  return {
    config: describeConfig(config),
    mode: config.mode,
    stopped: result.stopped,
    totals: result.totals,
    latencyMs: result.latencyMs,
    queueWaitMs: result.queueWaitMs,
    serviceMs: result.serviceMs,
    throughputPerSec: result.throughputPerSec,
    peakArrivalsPerSec: result.peakArrivalsPerSec,
    maxQueueDepth: result.maxQueueDepth,
    maxInUse: result.maxInUse,
    retried: result.retried,
    breaker: result.breaker ?? null,
    errors: result.errors,
    byPriority: result.byPriority,
    byTenant: result.byTenant,
    recommendations: recommend(result, limits),
    history: result.history,
    timing: {
      simulatedMs: result.elapsedMs,
      wallMs: result.wallMs,
      speedup: config.mode === 'virtual' && result.wallMs > 0 ? Math.round((result.elapsedMs / result.wallMs) * 10) / 10 : null,
    },
  }
}

/** The configuration as JSON can carry it (Infinity → "unbounded"), durations in ms. */
export function describeConfig(config: SimulationConfig): Record<string, unknown> {
  return {
    ...config,
    queueSize: config.queueSize === Infinity ? 'unbounded' : config.queueSize,
    durationMs: totalDurationMs(config),
  }
}

export function recommend(result: SimulationResult, limits: ServerLimits | undefined): Recommendation[] {
  const {config} = result
  const serviceS = (result.serviceMs.count > 0 ? result.serviceMs.mean : config.serviceTimeMs) / 1000
  const rate = Math.max(result.peakArrivalsPerSec, 1)
  const busy = rate * serviceS
  const connections = Math.max(1, Math.ceil(busy * HEADROOM))
  const drainPerSec = config.connections / serviceS
  const queueSize = Math.max(0, Math.floor((config.targetWaitMs / 1000) * drainPerSec))
  const out: Recommendation[] = [
    {
      id: 'connections',
      value: connections,
      reasoning:
        `Little's law: ${fmt(rate)} tasks/s at peak × ${fmt(serviceS * 1000)} ms mean service = ${fmt(busy)} connections busy on average; ` +
        `with ${Math.round((HEADROOM - 1) * 100)} % headroom → ${connections} (this run had ${config.connections}).`,
    },
    {
      id: 'queue-size',
      value: queueSize,
      reasoning:
        `${config.connections} connections at ${fmt(serviceS * 1000)} ms each drain ${fmt(drainPerSec)} tasks/s, so the last of a full queue of Q waits ` +
        `about Q / ${fmt(drainPerSec)} s; for a wait ≤ ${config.targetWaitMs} ms (--target-wait): queue size ≤ ${queueSize} ` +
        `(this run had ${config.queueSize === Infinity ? 'unbounded' : config.queueSize}).`,
    },
  ]
  if (limits === undefined) {
    out.push({id: 'instances', value: null, reasoning: "Give --max-connections (the server's max_connections) to see how many app instances fit before PgBouncer is needed."})
  } else {
    const margin = Math.ceil(limits.maxConnections * ADMIN_MARGIN)
    const usable = Math.max(0, limits.maxConnections - limits.superuserReserved - margin)
    const instances = Math.floor(usable / config.connections)
    out.push({
      id: 'instances',
      value: instances,
      reasoning:
        `max_connections ${limits.maxConnections} (${limits.source === 'server' ? 'read from the server' : '--max-connections'}) − ${limits.superuserReserved} superuser-reserved − ${margin} ` +
        `(${ADMIN_MARGIN * 100} % for admin, migrations, monitoring) = ${usable} usable; at ${config.connections} per instance, ${instances} instance(s) fit. ` +
        'Beyond that, put PgBouncer (transaction pooling) in front, or lower connections per instance.',
    })
  }
  return out
}

// ---- human output -------------------------------------------------------------------------------

type Table = (head: string[], rows: (string | number | null | undefined)[][], options?: {numeric?: number[]; title?: string}) => string

export function renderReport(report: Report, renderTable: Table): string {
  const {totals} = report
  const config = report.config as {connections: number; maxActive: number; queueSize: number | string; durationMs: number; seed: number}
  const summary = renderTable(
    ['', 'value'],
    [
      ['mode', `${report.mode}${report.mode === 'virtual' ? ` (seed ${config.seed})` : ''}${report.stopped ? ', stopped early' : ''}`],
      ['pool / max active / queue bound', `${config.connections} / ${config.maxActive} / ${config.queueSize}`],
      ['submitted', totals.submitted],
      ['completed', totals.completed],
      ['rejected (backpressure)', totals.rejected],
      ['failed', totals.failed],
      ['timed out', totals.timedOut],
      ['dead-lettered', totals.deadLettered],
      ...(totals.aborted > 0 ? [['aborted (stopped)', totals.aborted]] : []),
      ['throughput', `${report.throughputPerSec} tasks/s`],
      ['peak arrivals', `${report.peakArrivalsPerSec} tasks/s`],
      ['max queue depth', report.maxQueueDepth],
      ['max connections in use', report.maxInUse],
      ...(report.breaker ? [['breaker opened / short-circuited', `${report.breaker.opened} / ${report.breaker.rejected}`]] : []),
      ['simulated / wall time', timing(report)],
    ],
    {title: 'Summary'},
  )
  const latency = renderTable(
    ['ms', 'mean', 'p50', 'p95', 'p99', 'max'],
    [
      ['queue wait', ...cells(report.queueWaitMs)],
      ['service', ...cells(report.serviceMs)],
      ['total', ...cells(report.latencyMs)],
    ],
    {numeric: [1, 2, 3, 4, 5], title: 'Latency of completed tasks'},
  )
  const recommendations = ['Recommendations', ...report.recommendations.map((r) => `- ${r.id}: ${r.value ?? 'n/a'}. ${r.reasoning}`)].join('\n')
  const errors = report.errors.length === 0 ? '' : `\n\nErrors (besides backpressure and --failure-rate)\n${report.errors.map((e) => `- ${e.count} × ${e.code} (first: ${e.message})`).join('\n')}`
  return `${summary}\n\n${latency}${errors}\n\n${recommendations}`
}

/** Compare mode: one column per configuration, the varied field in the header. */
export function renderComparison(reports: Report[], varied: Field, values: string[], renderTable: Table): string {
  const row = (label: string, pick: (report: Report) => string | number) => [label, ...reports.map(pick)]
  return renderTable(
    [varied, ...values],
    [
      row('completed', (r) => r.totals.completed),
      row('rejected', (r) => r.totals.rejected),
      row('failed', (r) => r.totals.failed),
      row('timed out', (r) => r.totals.timedOut),
      row('throughput /s', (r) => r.throughputPerSec),
      row('queue wait p99 ms', (r) => r.queueWaitMs.p99),
      row('latency p50 ms', (r) => r.latencyMs.p50),
      row('latency p99 ms', (r) => r.latencyMs.p99),
      row('max queue depth', (r) => r.maxQueueDepth),
      row('max in use', (r) => r.maxInUse),
    ],
    {numeric: reports.map((_, i) => i + 1), title: `Compare: same seeded load, ${varied} = ${values.join(', ')}`},
  )
}

function cells(summary: Summary): number[] {
  return [summary.mean, summary.p50, summary.p95, summary.p99, summary.max]
}

function timing(report: Report): string {
  const {simulatedMs, wallMs, speedup} = report.timing
  const base = `${fmt(simulatedMs / 1000)} s / ${fmt(wallMs / 1000)} s`
  return speedup === null ? base : `${base} (${speedup}× real time)`
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)
}
