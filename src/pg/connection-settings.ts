import type {ConnectionOptions as TlsOptions} from 'node:tls'
import type {ClientConfig} from 'pg'

import {ErrorCode, CliError} from '../errors.js'

/**
 * The one description of "how poolctl connects", produced by the CLI's
 * connection resolution (src/cli/connection.ts) and turned into a `pg.Client`
 * config by `toPgClientConfig`. Every connection poolctl opens goes through it,
 * so every connection carries poolctl's application_name, connect timeout,
 * statement_timeout and lock_timeout.
 *
 * `password` and `tls` are non-enumerable: they never reach JSON.stringify,
 * util.inspect or a log line.
 */

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'
export const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']

/** Where the connection target came from (see docs/cli.md, "Connection resolution"). */
export type ConnectionSource = 'flag' | 'knexfile' | 'DATABASE_URL' | 'environment'
export type PasswordSource = 'url' | 'knexfile' | 'PGPASSWORD' | 'pgpass' | 'none'

export const DEFAULT_APPLICATION_NAME = 'poolctl'
/** @default 10 s, like a patient libpq `connect_timeout`; pg's own default is "wait forever". */
export const DEFAULT_CONNECT_TIMEOUT_MILLIS = 10_000
/** @default 30 s: poolctl's own queries are catalog reads and must never run long. */
export const DEFAULT_STATEMENT_TIMEOUT_MILLIS = 30_000
/** @default 5 s: poolctl must never queue behind (and so block) an application's locks. */
export const DEFAULT_LOCK_TIMEOUT_MILLIS = 5_000
/** Postgres truncates application_name to NAMEDATALEN - 1 bytes. */
const MAX_APPLICATION_NAME_BYTES = 63

export interface ConnectionSettings {
  /** Host name, IP address, or Unix-socket directory (starts with `/`). */
  readonly host: string
  readonly port: number
  readonly user: string
  readonly database: string
  /** Non-enumerable. Undefined when no source supplied one. */
  readonly password: string | undefined
  readonly passwordSource: PasswordSource
  /** Undefined: not configured, connect without TLS (pg's default). */
  readonly sslMode: SslMode | undefined
  /** Non-enumerable (may hold keys). Extra TLS options: CA, client cert, a knexfile's `ssl` object. */
  readonly tls: TlsOptions | undefined
  /** libpq `options` startup parameter, e.g. `-c search_path=app`. */
  readonly options: string | undefined
  /** Base application_name; connections may add a suffix (`poolctl-ping`). */
  readonly applicationName: string
  /** 0 = no timeout. */
  readonly connectTimeoutMillis: number
  /** 0 = not set (server default). */
  readonly statementTimeoutMillis: number
  /** 0 = not set (server default). */
  readonly lockTimeoutMillis: number
  readonly source: ConnectionSource
  /** `postgres://user:***@host:5432/db`: safe to print. */
  readonly displayUrl: string
}

type OptionalSetting =
  | 'applicationName'
  | 'connectTimeoutMillis'
  | 'lockTimeoutMillis'
  | 'options'
  | 'sslMode'
  | 'statementTimeoutMillis'
  | 'tls'

export type ConnectionSettingsInit = Omit<ConnectionSettings, 'displayUrl' | OptionalSetting> &
  Partial<Pick<ConnectionSettings, OptionalSetting>>

/** Validate and freeze. Throws a CliError (BAD_URL) naming the bad value. */
export function createConnectionSettings(init: ConnectionSettingsInit): ConnectionSettings {
  if (!Number.isInteger(init.port) || init.port < 1 || init.port > 65_535) {
    throw new CliError(ErrorCode.BAD_URL, `Expected the port to be an integer from 1 to 65535, got \`${init.port}\``)
  }
  if (init.host.length === 0) throw new CliError(ErrorCode.BAD_URL, 'Expected a host name, got an empty string')
  if (init.user.length === 0) throw new CliError(ErrorCode.BAD_URL, 'Expected a user name, got an empty string')
  const applicationName = init.applicationName ?? DEFAULT_APPLICATION_NAME
  const durations = {
    connectTimeoutMillis: init.connectTimeoutMillis ?? DEFAULT_CONNECT_TIMEOUT_MILLIS,
    lockTimeoutMillis: init.lockTimeoutMillis ?? DEFAULT_LOCK_TIMEOUT_MILLIS,
    statementTimeoutMillis: init.statementTimeoutMillis ?? DEFAULT_STATEMENT_TIMEOUT_MILLIS,
  }
  for (const [name, value] of Object.entries(durations)) {
    if (!Number.isInteger(value) || value < 0) {
      throw new CliError(ErrorCode.USAGE, `Expected ${name} to be a whole number of milliseconds >= 0, got \`${value}\``)
    }
  }
  const settings = {
    applicationName,
    database: init.database,
    host: init.host,
    options: init.options,
    passwordSource: init.passwordSource,
    port: init.port,
    source: init.source,
    sslMode: init.sslMode,
    user: init.user,
    ...durations,
    displayUrl: '',
  }
  Object.defineProperty(settings, 'password', {enumerable: false, value: init.password})
  Object.defineProperty(settings, 'tls', {enumerable: false, value: init.tls})
  settings.displayUrl = formatDisplayUrl(settings as unknown as ConnectionSettings)
  return Object.freeze(settings) as unknown as ConnectionSettings
}

/** Copy with some fields replaced (e.g. another database on the same server). */
export function withSettings(settings: ConnectionSettings, changes: Partial<ConnectionSettingsInit>): ConnectionSettings {
  return createConnectionSettings({
    applicationName: settings.applicationName,
    connectTimeoutMillis: settings.connectTimeoutMillis,
    database: settings.database,
    host: settings.host,
    lockTimeoutMillis: settings.lockTimeoutMillis,
    options: settings.options,
    password: settings.password,
    passwordSource: settings.passwordSource,
    port: settings.port,
    source: settings.source,
    sslMode: settings.sslMode,
    statementTimeoutMillis: settings.statementTimeoutMillis,
    tls: settings.tls,
    user: settings.user,
    ...changes,
  })
}

/** `postgres://user:***@host:5432/db` (the password is never shown, only whether there is one). */
export function formatDisplayUrl(settings: Pick<ConnectionSettings, 'database' | 'host' | 'password' | 'port' | 'user'>): string {
  const credentials = `${encodeURIComponent(settings.user)}${settings.password === undefined ? '' : ':***'}@`
  const database = encodeURIComponent(settings.database)
  if (settings.host.startsWith('/')) {
    return `postgres://${credentials}/${database}?host=${settings.host}&port=${settings.port}`
  }
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host
  return `postgres://${credentials}${host}:${settings.port}/${database}`
}

/** `poolctl` or `poolctl-<suffix>`, cut to what Postgres keeps (63 bytes). */
export function applicationNameFor(settings: Pick<ConnectionSettings, 'applicationName'>, suffix?: string): string {
  const name = suffix ? `${settings.applicationName}-${suffix}` : settings.applicationName
  const bytes = Buffer.from(name, 'utf8')
  return bytes.length <= MAX_APPLICATION_NAME_BYTES ? name : bytes.subarray(0, MAX_APPLICATION_NAME_BYTES).toString('utf8')
}

export interface PgClientConfigOptions {
  /** Appended to the application name: `poolctl-<suffix>`. */
  applicationNameSuffix?: string
  /** Connect without TLS even if the mode asks for it (the fallback of `prefer`/`allow`). */
  withoutTls?: boolean
}

/** TLS options pg should use, or false. */
export function tlsConfigFor(settings: ConnectionSettings, withoutTls = false): false | TlsOptions {
  const mode = settings.sslMode
  if (withoutTls || mode === undefined || mode === 'disable') return false
  const extra = settings.tls ?? {}
  switch (mode) {
    case 'allow':
    case 'prefer': {
      return {rejectUnauthorized: false, ...extra}
    }
    case 'require': {
      // libpq: `require` with a root certificate verifies the CA like `verify-ca`.
      return extra.ca === undefined ? {rejectUnauthorized: false, ...extra} : verifyCa(extra)
    }
    case 'verify-ca': {
      return verifyCa(extra)
    }
    case 'verify-full': {
      return {rejectUnauthorized: true, ...extra}
    }
  }
}

function verifyCa(extra: TlsOptions): TlsOptions {
  return {...extra, checkServerIdentity: () => undefined, rejectUnauthorized: true}
}

/**
 * The `pg.Client` config for these settings. Every field is explicit so that pg
 * never falls back to its own PG* environment or ~/.pgpass handling. The
 * password is non-enumerable on the returned object too.
 */
export function toPgClientConfig(settings: ConnectionSettings, options: PgClientConfigOptions = {}): ClientConfig {
  const config: ClientConfig = {
    application_name: applicationNameFor(settings, options.applicationNameSuffix),
    connectionTimeoutMillis: settings.connectTimeoutMillis,
    database: settings.database,
    host: settings.host,
    port: settings.port,
    ssl: tlsConfigFor(settings, options.withoutTls),
    user: settings.user,
  }
  // pg only sends these startup parameters when truthy: 0 leaves the server default.
  if (settings.statementTimeoutMillis > 0) config.statement_timeout = settings.statementTimeoutMillis
  if (settings.lockTimeoutMillis > 0) config.lock_timeout = settings.lockTimeoutMillis
  if (settings.options !== undefined) config.options = settings.options
  const password =
    settings.password ??
    (async () => {
      throw new CliError(
        ErrorCode.NO_PASSWORD,
        `the server asked for a password for user "${settings.user}" but none was supplied (put it in the URL, PGPASSWORD or ~/.pgpass)`,
      )
    })
  Object.defineProperty(config, 'password', {enumerable: false, value: password})
  return config
}
