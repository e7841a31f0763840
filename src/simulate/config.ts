/**
 * The load model of `poolctl simulate`: its fields, defaults and validation. Flags and scenario files
 * (JSON or YAML) share one set of field names (the flag names), so a scenario file is a saved command
 * line. Every bad field gets its own message; they are reported together in one line.
 */
import {parseDurationMillis} from '../cli/duration.js'

export type ServiceDistribution = 'constant' | 'exponential' | 'lognormal'
export type ArrivalProcess = 'poisson' | 'constant'
export type PhaseKind = 'steady' | 'ramp' | 'spike'

/** A stretch of the run with its own arrival rate; a ramp goes linearly from `rate` to `toRate`. */
export interface Phase {
  kind: PhaseKind
  durationMs: number
  /** Tasks per second (at the start, for a ramp). */
  rate: number
  /** Tasks per second at the end of a ramp; equal to `rate` otherwise. */
  toRate: number
}

export interface SimulationConfig {
  /** `virtual`: discrete-event run on a virtual clock; `database`: real statements on a real server. */
  mode: 'virtual' | 'database'
  seed: number
  /** Pool size (ConnectionPool max). */
  connections: number
  /** QueueBroker maxActiveTasks. */
  maxActive: number
  /** QueueBroker maxQueueSize; Infinity = unbounded. */
  queueSize: number
  arrivals: ArrivalProcess
  /** Always ≥ 1 phase: a plain `--rate`/`--duration` run is one steady phase. */
  phases: Phase[]
  serviceTimeMs: number
  serviceDist: ServiceDistribution
  /** Only for lognormal. */
  serviceP99Ms: number | undefined
  failureRate: number
  /** 0 = none. */
  taskTimeoutMs: number
  /** 0 = no tenants. */
  tenants: number
  /** Active tasks per tenant at once. */
  tenantLimit: number
  /** Share of the traffic sent by tenant-1, the noisy one. */
  noisyShare: number
  /** Share of tasks that are background work (priority low); the rest is user-facing (high). */
  backgroundShare: number
  retries: number
  /** Consecutive failures that open the circuit breaker; 0 = no breaker. */
  breakerThreshold: number
  breakerResetMs: number
  /** For the queue-size recommendation. */
  targetWaitMs: number
  /** The server's max_connections for the instances recommendation (database mode reads it). */
  maxConnections: number | undefined
  /** SQL run by each task instead of `SELECT pg_sleep(service time)`. */
  query: string | undefined
}

/** Field names, as flags and as scenario-file keys. */
export const FIELDS = [
  'virtual',
  'seed',
  'connections',
  'max-active',
  'queue-size',
  'rate',
  'arrivals',
  'duration',
  'phases',
  'service-time',
  'service-dist',
  'service-p99',
  'failure-rate',
  'task-timeout',
  'tenants',
  'tenant-limit',
  'noisy-share',
  'background-share',
  'retries',
  'breaker-threshold',
  'breaker-reset',
  'target-wait',
  'max-connections',
  'query',
] as const

export type Field = (typeof FIELDS)[number]

/** Raw values: strings from flags, anything from a parsed file. */
export type RawConfig = Partial<Record<Field, unknown>>

/** Fields that may take several comma-separated values to compare configurations. */
export const COMPARABLE: readonly Field[] = [
  'connections',
  'max-active',
  'queue-size',
  'rate',
  'service-time',
  'service-dist',
  'task-timeout',
  'tenant-limit',
  'retries',
]

/**
 * `npx poolctl simulate` with no flags: 20 s on 10 connections, 50 ms mean service (capacity ≈ 200/s),
 * 150/s steady with a 4 s spike to 400/s: the queue fills, backpressure sheds, then it recovers.
 */
export const DEFAULT_PHASES = 'steady:8s@150,spike:4s@400,steady:8s@150'

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '))
  }
}

/** Build the configurations to run: one, or one per value of the single field given several values. */
export function buildConfigs(raw: RawConfig): {configs: SimulationConfig[]; varied: Field | undefined} {
  const problems: string[] = []
  const varied = FIELDS.filter((field) => typeof raw[field] === 'string' && (raw[field] as string).includes(',') && field !== 'phases' && field !== 'query')
  for (const field of varied) {
    if (!COMPARABLE.includes(field)) problems.push(`${field}: only ${COMPARABLE.join(', ')} can take several values`)
  }
  if (varied.length > 1) problems.push(`only one field can take several values to compare, got ${varied.join(' and ')}`)
  if (problems.length > 0) throw new ConfigError(problems)
  const field = varied[0]
  if (field === undefined) return {configs: [buildConfig(raw)], varied: undefined}
  const values = (raw[field] as string).split(',').map((value) => value.trim())
  return {configs: values.map((value) => buildConfig({...raw, [field]: value})), varied: field}
}

/** Validate one configuration; throws ConfigError listing every bad field. */
export function buildConfig(raw: RawConfig): SimulationConfig {
  const problems: string[] = []
  for (const key of Object.keys(raw)) {
    if (!(FIELDS as readonly string[]).includes(key)) problems.push(`unknown field \`${key}\``)
  }
  const read = <T>(field: Field, parse: (value: unknown) => T, fallback: T): T => {
    const value = raw[field]
    if (value === undefined || value === null) return fallback
    try {
      return parse(value)
    } catch (error) {
      problems.push(`${field}: ${(error as Error).message}, got ${show(value)}`)
      return fallback
    }
  }

  const connections = read('connections', integer(1), 10)
  const phasesGiven = raw.phases !== undefined
  const flatGiven = raw.rate !== undefined || raw.duration !== undefined
  if (phasesGiven && flatGiven) problems.push('phases: give either phases or rate/duration, not both')
  const rate = read('rate', positive, 200)
  const durationMs = read('duration', duration(1), 20_000)
  const phases = phasesGiven || !flatGiven ? read('phases', parsePhases, parsePhases(DEFAULT_PHASES)) : [steady(durationMs, rate)]
  const serviceDist = read('service-dist', oneOf(['constant', 'exponential', 'lognormal'] as const), 'exponential')
  const serviceTimeMs = read('service-time', duration(1), 50)
  const serviceP99Ms = read('service-p99', duration(1), undefined as number | undefined)
  if (serviceP99Ms !== undefined && serviceDist !== 'lognormal') problems.push('service-p99: only applies to --service-dist lognormal')
  const config: SimulationConfig = {
    mode: read('virtual', boolean, false) ? 'virtual' : 'database',
    seed: read('seed', integer(0), 1),
    connections,
    maxActive: read('max-active', integer(1), connections),
    queueSize: read('queue-size', queueSize, 100),
    arrivals: read('arrivals', oneOf(['poisson', 'constant'] as const), 'poisson'),
    phases,
    serviceTimeMs,
    serviceDist,
    serviceP99Ms: serviceDist === 'lognormal' ? (serviceP99Ms ?? serviceTimeMs * 4) : undefined,
    failureRate: read('failure-rate', fraction, 0),
    taskTimeoutMs: read('task-timeout', duration(0), 0),
    tenants: read('tenants', integer(0), 0),
    tenantLimit: 0,
    noisyShare: read('noisy-share', fraction, 0.5),
    backgroundShare: read('background-share', fraction, 0.2),
    retries: read('retries', integer(0), 0),
    breakerThreshold: read('breaker-threshold', integer(0), 0),
    breakerResetMs: read('breaker-reset', duration(1), 5000),
    targetWaitMs: read('target-wait', duration(1), 500),
    maxConnections: read('max-connections', integer(1), undefined as number | undefined),
    query: read('query', nonEmptyString, undefined as string | undefined),
  }
  config.tenantLimit = read('tenant-limit', integer(1), Math.max(1, Math.ceil(config.maxActive / 2)))
  if (config.serviceP99Ms !== undefined && problems.length === 0) {
    const ratio = config.serviceP99Ms / config.serviceTimeMs
    if (ratio <= 1 || Math.log(ratio) > 2.7) {
      problems.push(`service-p99: a lognormal needs a p99 between 1× and 14× the mean service time, got ${config.serviceP99Ms}ms for a ${config.serviceTimeMs}ms mean`)
    }
  }
  if (config.mode === 'virtual' && config.query !== undefined) problems.push('query: runs only against a database, not with --virtual')
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

export function totalDurationMs(config: Pick<SimulationConfig, 'phases'>): number {
  return config.phases.reduce((sum, phase) => sum + phase.durationMs, 0)
}

export function peakRate(config: Pick<SimulationConfig, 'phases'>): number {
  return Math.max(...config.phases.map((phase) => Math.max(phase.rate, phase.toRate)))
}

/** `steady:10s@100,ramp:5s@100-400,spike:3s@1000` (a file may also give a list of such strings or objects). */
export function parsePhases(value: unknown): Phase[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined
  if (items === undefined || items.length === 0) throw new Error('expected phases like steady:10s@100,ramp:5s@100-400,spike:3s@1000')
  return items.map((item) => (typeof item === 'string' ? parsePhase(item.trim()) : phaseObject(item)))
}

function parsePhase(text: string): Phase {
  const match = /^(steady|ramp|spike):([^@]+)@(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(text)
  if (!match) throw new Error(`expected kind:duration@rate (kind steady, ramp or spike; a ramp's rate is from-to) in \`${text}\``)
  const kind = match[1] as PhaseKind
  if ((kind === 'ramp') !== (match[4] !== undefined)) throw new Error(`a ramp needs from-to rates and only a ramp has them, in \`${text}\``)
  const rate = Number(match[3])
  return {kind, durationMs: duration(1)(match[2]), rate, toRate: match[4] === undefined ? rate : Number(match[4])}
}

function phaseObject(item: unknown): Phase {
  if (item === null || typeof item !== 'object') throw new Error('expected each phase to be a string or {kind, duration, rate, to}')
  const {kind, duration: time, rate, to} = item as Record<string, unknown>
  return parsePhase(`${String(kind)}:${String(time)}@${String(rate)}${to === undefined ? '' : `-${String(to)}`}`)
}

function steady(durationMs: number, rate: number): Phase {
  return {kind: 'steady', durationMs, rate, toRate: rate}
}

// ---- field parsers: throw with what was expected; the caller adds the field and the value ----------

function show(value: unknown): string {
  return typeof value === 'string' ? `\`${value}\`` : `\`${JSON.stringify(value)}\` (${typeof value})`
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value)
  return Number.NaN
}

function integer(min: number): (value: unknown) => number {
  return (value) => {
    const number = toNumber(value)
    if (!Number.isInteger(number) || number < min) throw new Error(`expected a whole number ≥ ${min}`)
    return number
  }
}

function positive(value: unknown): number {
  const number = toNumber(value)
  if (!(number > 0) || !Number.isFinite(number)) throw new Error('expected a number > 0')
  return number
}

function fraction(value: unknown): number {
  const number = toNumber(value)
  if (!(number >= 0 && number <= 1)) throw new Error('expected a fraction from 0 to 1')
  return number
}

function queueSize(value: unknown): number {
  if (value === 'unbounded' || value === Infinity) return Infinity
  const number = toNumber(value)
  if (!Number.isInteger(number) || number < 0) throw new Error('expected a whole number ≥ 0 or `unbounded`')
  return number
}

function duration(min: number): (value: unknown) => number {
  return (value) => {
    // Every duration takes a unit: a bare number is refused here (it is ambiguous in a load model).
    if (typeof value !== 'string' || !/^\s*\d+(\.\d+)?\s*(ms|s|m|min|h)\s*$/i.test(value)) {
      throw new Error('expected a duration with a unit, e.g. 250ms, 30s, 2m, 1h')
    }
    const ms = parseDurationMillis(value)
    if (ms < min) throw new Error(`expected at least ${min}ms`)
    return ms
  }
}

function boolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value
  if (value === 'true') return true
  if (value === 'false') return false
  throw new Error('expected true or false')
}

function nonEmptyString(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new Error('expected a non-empty string')
  return value
}

function oneOf<T extends string>(options: readonly T[]): (value: unknown) => T {
  return (value) => {
    if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) throw new Error(`expected one of ${options.join(', ')}`)
    return value as T
  }
}
