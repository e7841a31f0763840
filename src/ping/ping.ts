import type {Logger} from 'pino'

import type {ConnectionSettings} from '../pg/connection-settings.js'
import {closeClient, connectClient} from '../pg/connect.js'
import {describeQueryError} from '../pg/errors.js'

export interface PingResult {
  /** Redacted target, `postgres://user:***@host:5432/db`. */
  url: string
  /** `version()`, the full banner. */
  version: string
  serverVersion: string
  serverVersionNum: number
  user: string
  database: string
  backendPid: number
  applicationName: string
  /** Time to open the connection (TCP, TLS, authentication), ms. */
  connectMs: number
  /** Round trip of the identification query, ms. */
  latencyMs: number
}

export const PING_SQL = `select version() as version,
       current_setting('server_version') as server_version,
       current_setting('server_version_num')::int as server_version_num,
       current_user as current_user,
       current_database() as current_database,
       pg_backend_pid() as backend_pid,
       current_setting('application_name') as application_name`

interface PingRow {
  version: string
  server_version: string
  server_version_num: number
  current_user: string
  current_database: string
  backend_pid: number
  application_name: string
}

/** Connect, identify the server, measure the round trip, disconnect. */
export async function ping(settings: ConnectionSettings, options: {logger?: Logger} = {}): Promise<PingResult> {
  const startedAt = performance.now()
  const client = await connectClient(settings, {applicationNameSuffix: 'ping', logger: options.logger})
  const connectMs = performance.now() - startedAt
  try {
    const queryStartedAt = performance.now()
    let row: PingRow
    try {
      const result = await client.query<PingRow>(PING_SQL)
      row = result.rows[0]
    } catch (error) {
      throw describeQueryError(error, 'the ping query')
    }
    const latencyMs = performance.now() - queryStartedAt
    options.logger?.debug({backendPid: row.backend_pid, latencyMs}, 'ping query done')
    return {
      applicationName: row.application_name,
      backendPid: row.backend_pid,
      connectMs: round(connectMs),
      database: row.current_database,
      latencyMs: round(latencyMs),
      serverVersion: row.server_version,
      serverVersionNum: row.server_version_num,
      url: settings.displayUrl,
      user: row.current_user,
      version: row.version,
    }
  } finally {
    await closeClient(client)
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}

/** The human summary `poolctl ping` prints. */
export function formatPing(result: PingResult): string {
  const rows: Array<[string, string]> = [
    ['server', `PostgreSQL ${result.serverVersion} (${result.serverVersionNum})`],
    ['user', result.user],
    ['database', result.database],
    ['latency', `${result.latencyMs.toFixed(2)} ms round trip, ${result.connectMs.toFixed(2)} ms to connect`],
    ['backend pid', String(result.backendPid)],
  ]
  const width = Math.max(...rows.map(([label]) => label.length))
  return [`ok ${result.url}`, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n')
}
