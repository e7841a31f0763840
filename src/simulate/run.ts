/**
 * `poolctl simulate` end to end, minus flag parsing: pick the database (the given one, or a temporary
 * embedded server), run each configuration with the live output, build the reports, clean up. Library
 * code: it never exits the process; a stop request arrives as an AbortSignal.
 */
import {writeFile} from 'node:fs/promises'

import type pg from 'pg'

import {CliError, ErrorCode} from '../errors.js'
import type {ConnectionSettings} from '../pg/connection-settings.js'
import type {Field, SimulationConfig} from './config.js'
import {Simulation, type SimulationResult, type Snapshot} from './engine.js'
import {type Report, type ServerLimits, buildReport} from './report.js'
import {startLiveOutput} from './ui/live.js'

export interface SimulateRequest {
  configs: SimulationConfig[]
  /** Compare mode: the field given several values, and those values. */
  compare?: {field: Field; values: string[]}
  /** A given database; undefined in database mode → the embedded server. */
  database?: {client: pg.ClientConfig; settings: ConnectionSettings}
  reportFile?: string
  metricsPort?: number
  interactive: boolean
  signal: AbortSignal
  /** q / Ctrl-C in the live UI. */
  onQuit: () => void
  /** Status lines for humans (stderr). */
  say: (line: string) => void
  io: {stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream; stdin: NodeJS.ReadStream}
}

export type SimulateOutput = Report | {compare: {field: Field; values: string[]}; runs: Report[]}

/** `output` is undefined only when the run was stopped before its first configuration started. */
export async function simulate(request: SimulateRequest): Promise<{output: SimulateOutput | undefined; reports: Report[]}> {
  const first = request.configs[0]
  let current: {snapshot(): Snapshot} | undefined
  const metrics =
    request.metricsPort === undefined ? undefined : await startMetrics(request.metricsPort, () => current?.snapshot())
  if (metrics !== undefined) request.say(`Metrics: http://127.0.0.1:${metrics.port}/metrics`)
  let embedded: {stop(): Promise<void>} | undefined
  try {
    let client: pg.ClientConfig | undefined
    let limits: ServerLimits | undefined =
      first.maxConnections === undefined ? undefined : {maxConnections: first.maxConnections, superuserReserved: 3, source: 'flag'}
    if (first.mode === 'database') {
      if (request.database === undefined) {
        request.say('No connection given: starting a temporary embedded PostgreSQL 17 (stopped and removed on exit)…')
        const {startEmbeddedPostgres} = await import('../embedded/embedded-postgres.js')
        const server = await startEmbeddedPostgres({settings: {max_connections: '100'}})
        embedded = server
        request.say(`Embedded PostgreSQL ready on ${server.displayUrl} (data dir ${server.dataDir})`)
        // The server is 17: it may end a backend whose client vanished mid-statement within 200 ms.
        client = {connectionString: server.url, application_name: 'poolctl-simulate', options: '-c client_connection_check_interval=200'}
      } else {
        client = request.database.client
        request.say(`Running against ${request.database.settings.displayUrl}`)
      }
      if (limits === undefined) limits = await readLimits(client, request.database?.settings)
    }

    const reports: Report[] = []
    for (const [index, config] of request.configs.entries()) {
      if (request.signal.aborted) break
      const title = request.compare ? `poolctl simulate · ${request.compare.field} = ${request.compare.values[index]}` : 'poolctl simulate'
      const result = await runOne(config, client, request, title, (simulation) => {
        current = simulation
      })
      reports.push(buildReport(result, limits))
    }
    if (reports.length === 0) return {output: undefined, reports}
    const output: SimulateOutput = request.compare === undefined ? reports[0] : {compare: request.compare, runs: reports}
    if (request.reportFile !== undefined) {
      await writeFile(request.reportFile, `${JSON.stringify(output, jsonReplacer, 2)}\n`).catch((error: unknown) => {
        throw new CliError(ErrorCode.USAGE, `could not write --report ${request.reportFile}: ${(error as Error).message}`)
      })
    }
    return {output, reports}
  } finally {
    await metrics?.close()
    if (embedded !== undefined) {
      await embedded.stop()
      request.say('Embedded PostgreSQL stopped and removed.')
    }
  }
}

async function runOne(
  config: SimulationConfig,
  client: pg.ClientConfig | undefined,
  request: SimulateRequest,
  title: string,
  expose: (simulation: {snapshot(): Snapshot}) => void,
): Promise<SimulationResult> {
  let simulation: Simulation<never>
  if (config.mode === 'virtual') {
    const {SimulationClock, virtualExecutor} = await import('./virtual.js')
    const clock = new SimulationClock()
    simulation = new Simulation(config, {clock, executor: virtualExecutor(clock)}) as unknown as Simulation<never>
  } else {
    const {realClock} = await import('../core/index.js')
    const {databaseExecutor} = await import('./executors.js')
    simulation = new Simulation(config, {clock: realClock, executor: databaseExecutor(client!, config.query)}) as unknown as Simulation<never>
  }
  expose(simulation)
  const live = await startLiveOutput({
    interactive: request.interactive,
    snapshot: (): Snapshot => simulation.snapshot(),
    title,
    progress: request.io.stderr,
    stdout: request.io.stdout,
    stdin: request.io.stdin,
    onQuit: request.onQuit,
  })
  try {
    return await simulation.run({signal: request.signal})
  } finally {
    await live.stop()
  }
}

async function readLimits(client: pg.ClientConfig, settings: ConnectionSettings | undefined): Promise<ServerLimits> {
  const {readServerLimits} = await import('./executors.js')
  try {
    return {...(await readServerLimits(client)), source: 'server'}
  } catch (error) {
    if (settings === undefined) throw new CliError(ErrorCode.CONNECTION_FAILED, `could not query the embedded PostgreSQL: ${(error as Error).message}`)
    const {describeConnectError} = await import('../pg/errors.js')
    throw describeConnectError(error, settings)
  }
}

async function startMetrics(port: number, snapshot: () => Snapshot | undefined) {
  const {startMetricsServer} = await import('./metrics.js')
  try {
    return await startMetricsServer(port, snapshot)
  } catch (error) {
    throw new CliError(ErrorCode.USAGE, `--metrics-port ${port}: ${(error as Error).message}`)
  }
}

/** Infinity (an unbounded queue) is not JSON: write it as the string the flags accept. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return value === Infinity ? 'unbounded' : value
}
