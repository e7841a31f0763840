/**
 * Pool sizing from real concurrency, checked against the server. Pure: no I/O, no clock.
 *
 *   per-instance max = API concurrency + workers × connections per worker
 *   demand           = instances × per-instance max + maintenance
 *   usable           = max_connections − superuser_reserved_connections − reserved_connections (PG 16+)
 *
 * Each in-flight request or job that touches the database holds one connection for the length of its
 * query or transaction, so the pool of one process must hold them all at once or callers queue behind
 * it; every process has its own pool; migrations, cron jobs, psql and monitoring take the rest.
 */

export type EnvironmentProfile = 'production' | 'development' | 'test'

export interface SizingInput {
  /** Processes × replicas, each with its own pool. */
  instances: number
  /** Requests per instance that hold a connection at the same time. */
  apiConcurrency: number
  /** Background workers (jobs running at once) per instance. */
  workers: number
  connectionsPerWorker: number
  /** Connections outside the app pools: migrations, cron, psql, monitoring. */
  maintenance: number
  /** The server's capacity, when known (--max-connections, or read with --url). */
  server?: ServerCapacity
  /** knexfile environments to size; default development, test, production. */
  environments?: readonly string[]
}

export interface ServerCapacity {
  maxConnections: number
  superuserReservedConnections: number
  reservedConnections: number
  /** 'server' when read with --url; 'flag' when given as --max-connections (reserves assumed). */
  source: 'server' | 'flag'
}

export interface PoolSettings {
  min: number
  max: number
  acquireTimeoutMillis: number
  idleTimeoutMillis: number
  reapIntervalMillis: number
  createTimeoutMillis: number
}

export interface EnvironmentSizing extends PoolSettings {
  environment: string
  profile: EnvironmentProfile
}

export interface SizingResult {
  input: SizingInput
  perInstanceDemand: number
  demand: number
  usable: number | null
  /** 'unknown' without server capacity. */
  verdict: 'fits' | 'exceeds' | 'unknown'
  /** The production max actually written: the demand when it fits, else what fits. */
  productionMax: number
  recommendPgBouncer: boolean
  environments: EnvironmentSizing[]
  /** The arithmetic, one line each, for humans. */
  arithmetic: string[]
}

/** postgres's default superuser_reserved_connections, assumed with --max-connections. */
export const DEFAULT_SUPERUSER_RESERVED = 3
export const DEFAULT_ENVIRONMENTS = ['development', 'test', 'production'] as const
/** Tests run many processes at once (one per test file), each with its own pool. */
export const TEST_POOL_MAX = 4
export const DEVELOPMENT_POOL_MAX = 10

/**
 * Timeouts by profile. Production fails fast: a request that waited 5 s for a connection is already
 * lost, and knex's 60 s default only piles work up behind a dead pool. createTimeoutMillis stays
 * below acquireTimeoutMillis so that one hung connect still leaves room for tarn's retry. min is 0
 * everywhere (knex's docs: idle connections above min are never reaped, and stale ones break).
 */
const TIMEOUTS: Record<EnvironmentProfile, Omit<PoolSettings, 'min' | 'max'>> = {
  development: {acquireTimeoutMillis: 10_000, createTimeoutMillis: 5000, idleTimeoutMillis: 10_000, reapIntervalMillis: 1000},
  production: {acquireTimeoutMillis: 5000, createTimeoutMillis: 3000, idleTimeoutMillis: 30_000, reapIntervalMillis: 1000},
  test: {acquireTimeoutMillis: 10_000, createTimeoutMillis: 5000, idleTimeoutMillis: 1000, reapIntervalMillis: 500},
}

export class SizingError extends Error {
  override readonly name = 'SizingError'
  readonly code = 'BAD_SIZING'
}

export function profileOf(environment: string): EnvironmentProfile {
  if (/test|^ci$/i.test(environment)) return 'test'
  if (/dev|local/i.test(environment)) return 'development'
  return 'production'
}

/** --max-connections alone: the reserves are assumed to be postgres' defaults (said so in the arithmetic). */
export function assumedCapacity(maxConnections: number): ServerCapacity {
  return {maxConnections, reservedConnections: 0, source: 'flag', superuserReservedConnections: DEFAULT_SUPERUSER_RESERVED}
}

export function usableSlots(server: ServerCapacity): number {
  return server.maxConnections - server.superuserReservedConnections - server.reservedConnections
}

/** Throws SizingError for inputs that no pool size can satisfy. */
export function sizePools(input: SizingInput): SizingResult {
  validate(input)
  const {apiConcurrency, connectionsPerWorker, instances, maintenance, workers} = input
  const workerConnections = workers * connectionsPerWorker
  const perInstanceDemand = apiConcurrency + workerConnections
  const demand = instances * perInstanceDemand + maintenance
  const usable = input.server ? usableSlots(input.server) : null
  const verdict = usable === null ? 'unknown' : demand <= usable ? 'fits' : 'exceeds'
  const productionMax = verdict === 'exceeds' ? Math.floor((usable! - maintenance) / instances) : perInstanceDemand

  const arithmetic = [
    `per instance = ${apiConcurrency} API + ${workers} worker${workers === 1 ? '' : 's'} × ${connectionsPerWorker} = ${perInstanceDemand} connections`,
    `demand = ${instances} instance${instances === 1 ? '' : 's'} × ${perInstanceDemand} + ${maintenance} maintenance = ${demand} connections`,
  ]
  if (input.server) {
    const {maxConnections, reservedConnections, source, superuserReservedConnections} = input.server
    const assumed = source === 'flag' ? ' (assumed: postgres default)' : ''
    arithmetic.push(
      `usable = ${maxConnections} max_connections − ${superuserReservedConnections} superuser_reserved_connections${assumed} − ${reservedConnections} reserved_connections = ${usable}`,
    )
    arithmetic.push(
      verdict === 'fits'
        ? `${demand} ≤ ${usable}: fits (${percent(demand, usable!)} of usable slots at peak)`
        : `${demand} > ${usable}: does NOT fit; pool max capped to (${usable} − ${maintenance}) / ${instances} = ${productionMax} per instance, and put PgBouncer (transaction pooling) in front for the rest`,
    )
  } else {
    arithmetic.push('server capacity unknown: pass --max-connections N or --url to check the demand against usable slots')
  }

  const environments = (input.environments ?? DEFAULT_ENVIRONMENTS).map((environment) => {
    const profile = profileOf(environment)
    const max = profile === 'production' ? productionMax : Math.min(productionMax, profile === 'test' ? TEST_POOL_MAX : DEVELOPMENT_POOL_MAX)
    return {environment, profile, min: 0, max, ...TIMEOUTS[profile]}
  })
  return {arithmetic, demand, environments, input, perInstanceDemand, productionMax, recommendPgBouncer: verdict === 'exceeds', usable, verdict}
}

function validate(input: SizingInput): void {
  for (const key of ['instances', 'apiConcurrency', 'workers', 'connectionsPerWorker', 'maintenance'] as const) {
    const value = input[key]
    if (!Number.isInteger(value) || value < 0) throw new SizingError(`Expected ${flagName(key)} to be a whole number >= 0, got \`${value}\``)
  }
  if (input.instances < 1) throw new SizingError(`Expected --instances to be at least 1, got \`${input.instances}\``)
  if (input.apiConcurrency + input.workers * input.connectionsPerWorker < 1) {
    throw new SizingError('nothing needs a connection: --api-concurrency and --workers × --connections-per-worker are both 0')
  }
  if (!input.server) return
  const usable = usableSlots(input.server)
  const {maxConnections, reservedConnections, superuserReservedConnections} = input.server
  if (usable < 1) {
    throw new SizingError(
      `max_connections ${maxConnections} leaves no usable slot after ${superuserReservedConnections} superuser-reserved and ${reservedConnections} reserved connections`,
    )
  }
  if (input.maintenance >= usable) {
    throw new SizingError(`--maintenance ${input.maintenance} leaves no slot for the app: the server has only ${usable} usable connections`)
  }
  const workerTotal = input.instances * input.workers * input.connectionsPerWorker
  if (workerTotal + input.maintenance > usable) {
    // Workers hold their connections for a whole job; PgBouncer cannot share those, so no pool size helps.
    throw new SizingError(
      `--workers need ${input.instances} × ${input.workers} × ${input.connectionsPerWorker} = ${workerTotal} connections (+ ${input.maintenance} maintenance), more than the ${usable} usable slots the server has`,
    )
  }
  if (input.instances + input.maintenance > usable) {
    throw new SizingError(`--instances ${input.instances} cannot each get a connection: the server has only ${usable} usable slots (${input.maintenance} kept for maintenance)`)
  }
}

function flagName(key: string): string {
  return `--${key.replaceAll(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`
}

function percent(part: number, whole: number): string {
  return `${((part / whole) * 100).toFixed(1)} %`
}
