import type {Client} from 'pg'
import type {Logger} from 'pino'

import {ErrorCode, CliError} from '../errors.js'
import {closeClient, connectClient} from '../pg/connect.js'
import {type ConnectionSettings, withSettings} from '../pg/connection-settings.js'
import {describeQueryError} from '../pg/errors.js'
import {
  type ActivityRow,
  activitySql,
  type BlockerRow,
  blockersSql,
  MIN_SERVER_VERSION_NUM,
  PGBOUNCER_SQL,
  type ServerRow,
  SERVER_SQL,
  SESSION_TIMEOUTS_SQL,
} from './queries.js'

/** What one snapshot read from PostgreSQL, untouched: analyse.ts turns it into a report. */
export interface PostgresSnapshot {
  kind: 'postgres'
  server: ServerRow
  activity: ActivityRow[]
  blockers: BlockerRow[]
}

/** What one snapshot read from PgBouncer's admin console. */
export interface PgBouncerSnapshot {
  kind: 'pgbouncer'
  takenAt: Date
  version: string
  pools: Record<string, unknown>[]
  databases: Record<string, unknown>[]
  config: Record<string, unknown>[]
}

export type Snapshot = PgBouncerSnapshot | PostgresSnapshot

/** PgBouncer's admin console is the database of this name (pgbouncer docs, "Admin console"). */
export const PGBOUNCER_ADMIN_DATABASE = 'pgbouncer'

/**
 * Holds the one connection inspect uses and takes snapshots over it: one-shot runs take one and
 * close; `--watch` takes one per interval on the same connection. A snapshot that fails drops the
 * connection, so the next one reconnects instead of reusing a broken client.
 *
 * The connection is opened without poolctl's statement_timeout and lock_timeout startup parameters,
 * for two reasons: PgBouncer's admin console rejects them ("unsupported startup parameter"), and
 * reading statement_timeout before setting our own shows the value the app's sessions run with.
 * They are applied with set_config right after that first, trivial read.
 */
export class Inspector {
  readonly settings: ConnectionSettings
  readonly #logger: Logger | undefined
  #client: Client | undefined
  #kind: Snapshot['kind'] | undefined
  #closed = false
  /** The server's statement_timeout for this role and database, read before poolctl set its own. */
  #serverStatementTimeout: string | null = null

  constructor(settings: ConnectionSettings, options: {logger?: Logger} = {}) {
    this.settings = settings
    this.#logger = options.logger
  }

  /** Take one snapshot. Rejects with a CliError (exit 3) when it cannot connect or read. */
  async snapshot(): Promise<Snapshot> {
    if (this.#closed) throw new Error('Inspector: snapshot() after close()')
    const client = await this.#connect()
    try {
      const kind = this.#kind ?? (await this.#detect(client))
      return kind === 'pgbouncer' ? await readPgBouncer(client) : await this.#readPostgres(client)
    } catch (error) {
      await this.#drop()
      throw error
    }
  }

  /** Close the connection (idempotent). */
  async close(): Promise<void> {
    this.#closed = true
    await this.#drop()
  }

  async #connect(): Promise<Client> {
    if (this.#client) return this.#client
    const settings = withSettings(this.settings, {lockTimeoutMillis: 0, statementTimeoutMillis: 0})
    const client = await connectClient(settings, {applicationNameSuffix: 'inspect', logger: this.#logger})
    // A dropped connection surfaces on the next query; forget it then (see snapshot()).
    client.on('end', () => {
      if (this.#client === client) this.#client = undefined
    })
    this.#client = client
    this.#kind = undefined
    return client
  }

  async #drop(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    this.#kind = undefined
    if (client) await closeClient(client)
  }

  /** PgBouncer or PostgreSQL? Only a database named `pgbouncer` can be the admin console. */
  async #detect(client: Client): Promise<Snapshot['kind']> {
    let kind: Snapshot['kind'] = 'postgres'
    if (this.settings.database === PGBOUNCER_ADMIN_DATABASE) {
      try {
        const result = await client.query<{version: string}>(PGBOUNCER_SQL.version)
        if (/pgbouncer/i.test(String(result.rows[0]?.version ?? ''))) kind = 'pgbouncer'
      } catch {
        // A real PostgreSQL database named "pgbouncer": SHOW VERSION is not a setting there.
      }
    }
    if (kind === 'postgres') {
      const ms = (value: number) => (value > 0 ? String(value) : '')
      const [row] = await query<{server_statement_timeout: string | null}>(
        client,
        SESSION_TIMEOUTS_SQL,
        'setting statement_timeout and lock_timeout',
        [ms(this.settings.statementTimeoutMillis), ms(this.settings.lockTimeoutMillis)],
      )
      this.#serverStatementTimeout = row?.server_statement_timeout ?? null
    }
    this.#logger?.debug({kind}, 'inspect target detected')
    this.#kind = kind
    return kind
  }

  async #readPostgres(client: Client): Promise<PostgresSnapshot> {
    const [row] = await query<Omit<ServerRow, 'statement_timeout'>>(client, SERVER_SQL, 'reading the server settings')
    const server: ServerRow = {...row, statement_timeout: this.#serverStatementTimeout}
    if (server.server_version_num < MIN_SERVER_VERSION_NUM) {
      throw new CliError(
        ErrorCode.QUERY_FAILED,
        `PostgreSQL ${server.server_version} is not supported by poolctl inspect (it needs 10 or later: backend_type, pg_blocking_pids)`,
      )
    }
    const activity = await query<ActivityRow>(client, activitySql(server.server_version_num), 'reading pg_stat_activity')
    const waiting = activity.filter((row) => row.wait_event_type === 'Lock').map((row) => row.pid)
    const blockers =
      waiting.length === 0
        ? []
        : await query<BlockerRow>(client, blockersSql(server.server_version_num), 'reading lock waits (pg_blocking_pids)', [waiting])
    this.#logger?.debug({lockWaiters: waiting.length, sessions: activity.length}, 'postgres snapshot taken')
    return {activity, blockers, kind: 'postgres', server}
  }
}

async function query<T extends object>(client: Client, text: string, what: string, values?: unknown[]): Promise<T[]> {
  try {
    const result = await client.query<T>(text, values)
    return result.rows
  } catch (error) {
    throw describeQueryError(error, what)
  }
}

/** SHOW … over the simple query protocol (no parameters: the admin console refuses the extended one). */
async function readPgBouncer(client: Client): Promise<PgBouncerSnapshot> {
  const takenAt = new Date()
  const [version] = await query<{version: string}>(client, PGBOUNCER_SQL.version, 'SHOW VERSION on the PgBouncer admin console')
  const pools = await query<Record<string, unknown>>(client, PGBOUNCER_SQL.pools, 'SHOW POOLS on the PgBouncer admin console')
  const databases = await query<Record<string, unknown>>(client, PGBOUNCER_SQL.databases, 'SHOW DATABASES on the PgBouncer admin console')
  const config = await query<Record<string, unknown>>(client, PGBOUNCER_SQL.config, 'SHOW CONFIG on the PgBouncer admin console')
  return {config, databases, kind: 'pgbouncer', pools, takenAt, version: String(version?.version ?? 'PgBouncer')}
}
