import {readFileSync} from 'node:fs'
import {homedir, userInfo} from 'node:os'
import type {ConnectionOptions as TlsOptions} from 'node:tls'

import {ErrorCode, CliError} from '../errors.js'
import {
  assertPostgresClient,
  loadKnexfile,
  type LoadedKnexfile,
  resolveKnexConnection,
} from '../knex/knexfile.js'
import {
  type ConnectionSettings,
  type ConnectionSource,
  createConnectionSettings,
  DEFAULT_CONNECT_TIMEOUT_MILLIS,
  type PasswordSource,
  SSL_MODES,
  type SslMode,
} from '../pg/connection-settings.js'
import {lookupPgpass} from './pgpass.js'
import {redactUrl, registerSecret, scrubSecrets} from './redact.js'

/**
 * Connection resolution: turns flags + environment into one ConnectionSettings.
 *
 * Where the target comes from, first match wins:
 *   1. `--url`
 *   2. `--knexfile` (+ `--env`, default NODE_ENV, then `development`)
 *   3. `DATABASE_URL`
 *   4. libpq environment variables and defaults only
 * Whatever the chosen source leaves out is filled from the libpq environment
 * (PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE, PGOPTIONS, PGSSLROOTCERT,
 * PGSSLCERT, PGSSLKEY), then libpq's defaults (localhost, 5432, the OS user,
 * database = user), which is also what pg itself does. PGAPPNAME is ignored:
 * poolctl always identifies itself as `poolctl`.
 *
 * Password: the source's own, else PGPASSWORD, else ~/.pgpass (PGPASSFILE).
 * Connect timeout: `--connect-timeout`, else the URL's `connect_timeout`, else
 * PGCONNECT_TIMEOUT, else 10 s.
 */

export interface ConnectionFlags {
  url?: string
  knexfile?: string
  env?: string
  /** Explicit `--connect-timeout`; undefined means "not given on the command line". */
  connectTimeoutMillis?: number
  statementTimeoutMillis?: number
  lockTimeoutMillis?: number
  applicationName?: string
}

export interface ResolveContext {
  environ: NodeJS.ProcessEnv
  cwd: string
  homedir: string
  /** The OS user name, libpq's default user. */
  username: string
  platform?: NodeJS.Platform
}

export interface ResolvedConnection {
  settings: ConnectionSettings
  /** Human-readable warnings (ignored URL parameters, an unsafe .pgpass…). */
  warnings: string[]
  /** Set when the target came from a knexfile. */
  knexfile?: LoadedKnexfile
}

/** Fields a source may set; everything optional. */
export interface ConnectionParts {
  host?: string
  port?: number
  user?: string
  password?: string
  database?: string
  sslMode?: SslMode
  tls?: TlsOptions
  options?: string
  connectTimeoutMillis?: number
}

export function defaultResolveContext(): ResolveContext {
  let username = process.env.USER ?? process.env.USERNAME ?? 'postgres'
  try {
    username = userInfo().username
  } catch {
    // no passwd entry (some containers): keep the environment's guess
  }
  return {cwd: process.cwd(), environ: process.env, homedir: homedir(), platform: process.platform, username}
}

export async function resolveConnection(
  flags: ConnectionFlags,
  context: ResolveContext = defaultResolveContext(),
): Promise<ResolvedConnection> {
  const warnings: string[] = []
  const {environ} = context
  let parts: ConnectionParts
  let source: ConnectionSource
  let knexfile: LoadedKnexfile | undefined
  if (flags.url !== undefined && flags.knexfile !== undefined) {
    throw new CliError(ErrorCode.USAGE, '--url and --knexfile cannot be used together')
  }
  if (flags.url !== undefined) {
    source = 'flag'
    parts = parseConnectionUrl(flags.url, warnings, context)
  } else if (flags.knexfile === undefined) {
    if (environ.DATABASE_URL) {
      source = 'DATABASE_URL'
      parts = parseConnectionUrl(environ.DATABASE_URL, warnings, context)
    } else {
      source = 'environment'
      parts = {}
    }
  } else {
    source = 'knexfile'
    knexfile = await loadKnexfile(flags.knexfile, {cwd: context.cwd, env: flags.env, environ})
    assertPostgresClient(knexfile)
    parts = await partsFromKnexConnection(await resolveKnexConnection(knexfile), warnings, context)
  }

  const fromEnv = partsFromEnvironment(environ, context)
  const host = parts.host ?? fromEnv.host ?? 'localhost'
  const port = parts.port ?? fromEnv.port ?? 5432
  const user = parts.user ?? fromEnv.user ?? context.username
  const database = parts.database ?? fromEnv.database ?? user

  let password = parts.password
  let passwordSource: PasswordSource = password === undefined ? 'none' : source === 'knexfile' ? 'knexfile' : 'url'
  if (password === undefined && environ.PGPASSWORD !== undefined) {
    password = environ.PGPASSWORD
    passwordSource = 'PGPASSWORD'
  }
  if (password === undefined) {
    const lookup = lookupPgpass(
      {database, host, port, user},
      {environ, homedir: context.homedir, platform: context.platform},
    )
    if (lookup.warning) warnings.push(lookup.warning)
    if (lookup.password !== undefined) {
      password = lookup.password
      passwordSource = 'pgpass'
    }
  }
  registerSecret(password)

  const settings = createConnectionSettings({
    applicationName: flags.applicationName,
    connectTimeoutMillis:
      flags.connectTimeoutMillis ?? parts.connectTimeoutMillis ?? fromEnv.connectTimeoutMillis ?? DEFAULT_CONNECT_TIMEOUT_MILLIS,
    database,
    host,
    lockTimeoutMillis: flags.lockTimeoutMillis,
    options: parts.options ?? fromEnv.options,
    password,
    passwordSource,
    port,
    source,
    sslMode: parts.sslMode ?? fromEnv.sslMode,
    statementTimeoutMillis: flags.statementTimeoutMillis,
    tls: mergeTls(fromEnv.tls, parts.tls),
    user,
  })
  return knexfile ? {knexfile, settings, warnings} : {settings, warnings}
}

const SUPPORTED_URL_PARAMETERS = new Set([
  'application_name',
  'connect_timeout',
  'dbname',
  'host',
  'options',
  'password',
  'port',
  'sslcert',
  'sslkey',
  'sslmode',
  'sslrootcert',
  'user',
])

function badUrl(url: string, reason: string): CliError {
  return new CliError(ErrorCode.BAD_URL, `could not parse the connection URL ${redactUrl(url)}: ${reason}`)
}

/**
 * Parse a `postgres://` / `postgresql://` URL into parts. Parse failures never
 * echo the input: the message carries `redactUrl(url)` only.
 */
export function parseConnectionUrl(
  url: string,
  warnings: string[] = [],
  context: Pick<ResolveContext, 'cwd'> = {cwd: process.cwd()},
): ConnectionParts {
  if (!/^postgres(?:ql)?:\/\//i.test(url)) {
    throw badUrl(url, 'expected postgres://user:password@host:port/database')
  }
  let parsed: URL
  let emptyHost = false
  try {
    parsed = new URL(url)
  } catch {
    // libpq allows `postgres://user@/db?host=/run/postgresql` (empty host after
    // userinfo); WHATWG URL does not. Parse it with a placeholder host.
    const withPlaceholder = url.replace(/^(postgres(?:ql)?:\/\/[^/?#]*@)(?=[/?]|$)/i, '$1placeholder.invalid')
    try {
      if (withPlaceholder === url) throw new Error('not an empty host')
      parsed = new URL(withPlaceholder)
      emptyHost = true
    } catch {
      throw badUrl(url, 'it is not a valid URL (percent-encode special characters in the password, e.g. # as %23, @ as %40)')
    }
  }
  const decode = (value: string, what: string): string => {
    try {
      return decodeURIComponent(value)
    } catch {
      throw badUrl(url, `the ${what} has an invalid percent-escape (write % as %25)`)
    }
  }
  const parts: ConnectionParts = {}
  if (parsed.username) parts.user = decode(parsed.username, 'user name')
  if (parsed.password) parts.password = decode(parsed.password, 'password')
  // Register the secret at once: every later error message is scrubbed of it.
  registerSecret(parts.password)
  if (parsed.hostname && !emptyHost) {
    const host = decode(parsed.hostname, 'host')
    if (host.includes(',')) throw badUrl(url, 'multiple hosts are not supported')
    parts.host = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  }
  if (parsed.port) parts.port = Number(parsed.port)
  const path = parsed.pathname.replace(/^\//, '')
  if (path) parts.database = decode(path, 'database name')

  for (const [key, value] of parsed.searchParams) {
    if (!SUPPORTED_URL_PARAMETERS.has(key)) {
      warnings.push(`ignoring URL parameter "${key}" (not supported by poolctl)`)
      continue
    }
    switch (key) {
      case 'host': {
        parts.host = value
        break
      }
      case 'port': {
        parts.port = parsePort(value, () => badUrl(url, `the port must be an integer from 1 to 65535`))
        break
      }
      case 'user': {
        parts.user = value
        break
      }
      case 'password': {
        parts.password = value
        registerSecret(value)
        break
      }
      case 'dbname': {
        parts.database = value
        break
      }
      case 'sslmode': {
        parts.sslMode = parseSslMode(value, () => badUrl(url, `sslmode must be one of ${SSL_MODES.join(', ')}`))
        break
      }
      case 'connect_timeout': {
        parts.connectTimeoutMillis = parseConnectTimeout(value, () => badUrl(url, 'connect_timeout must be a whole number of seconds'))
        break
      }
      case 'options': {
        parts.options = value
        break
      }
      case 'sslrootcert':
      case 'sslcert':
      case 'sslkey': {
        parts.tls = mergeTls(parts.tls, readTlsFile(key, value, context.cwd))
        break
      }
      case 'application_name': {
        // poolctl always sets its own application_name.
        break
      }
    }
  }
  return parts
}

/** The libpq environment variables poolctl honours. */
export function partsFromEnvironment(environ: NodeJS.ProcessEnv, context: Pick<ResolveContext, 'cwd'>): ConnectionParts {
  const parts: ConnectionParts = {}
  const invalid = (name: string, expected: string) =>
    new CliError(ErrorCode.BAD_URL, `Expected ${name} to be ${expected}, got \`${environ[name]}\``)
  if (environ.PGHOST) {
    if (environ.PGHOST.includes(',')) throw invalid('PGHOST', 'a single host (multiple hosts are not supported)')
    parts.host = environ.PGHOST
  }
  if (environ.PGPORT) parts.port = parsePort(environ.PGPORT, () => invalid('PGPORT', 'an integer from 1 to 65535'))
  if (environ.PGUSER) parts.user = environ.PGUSER
  if (environ.PGDATABASE) parts.database = environ.PGDATABASE
  if (environ.PGSSLMODE) {
    parts.sslMode = parseSslMode(environ.PGSSLMODE, () => invalid('PGSSLMODE', `one of ${SSL_MODES.join(', ')}`))
  }
  if (environ.PGOPTIONS) parts.options = environ.PGOPTIONS
  if (environ.PGCONNECT_TIMEOUT) {
    parts.connectTimeoutMillis = parseConnectTimeout(environ.PGCONNECT_TIMEOUT, () =>
      invalid('PGCONNECT_TIMEOUT', 'a whole number of seconds'),
    )
  }
  for (const [name, key] of [
    ['PGSSLROOTCERT', 'sslrootcert'],
    ['PGSSLCERT', 'sslcert'],
    ['PGSSLKEY', 'sslkey'],
  ] as const) {
    const value = environ[name]
    if (value) parts.tls = mergeTls(parts.tls, readTlsFile(key, value, context.cwd))
  }
  return parts
}

/** A knexfile `connection`: a URL string, or a pg connection object (optionally with `connectionString`). */
export async function partsFromKnexConnection(
  connection: Record<string, unknown> | string,
  warnings: string[],
  context: Pick<ResolveContext, 'cwd'>,
): Promise<ConnectionParts> {
  if (typeof connection === 'string') return parseConnectionUrl(connection, warnings, context)
  const parts: ConnectionParts =
    typeof connection.connectionString === 'string' && connection.connectionString.length > 0
      ? parseConnectionUrl(connection.connectionString, warnings, context)
      : {}
  const text = (key: string): string | undefined => {
    const value = connection[key]
    if (value === undefined || value === null || value === '') return undefined
    if (typeof value === 'string') return value
    if (typeof value === 'number') return String(value)
    throw new CliError(ErrorCode.KNEXFILE_FAILED, `Expected connection.${key} in the knexfile to be a string, got ${typeof value}`)
  }
  parts.host = text('host') ?? parts.host
  const port = text('port')
  if (port !== undefined) {
    parts.port = parsePort(port, () => new CliError(ErrorCode.KNEXFILE_FAILED, `Expected connection.port in the knexfile to be an integer from 1 to 65535, got \`${port}\``))
  }
  parts.user = text('user') ?? parts.user
  parts.database = text('database') ?? parts.database
  parts.options = text('options') ?? parts.options
  let {password} = connection
  if (typeof password === 'function') {
    // pg accepts a (possibly async) password function, e.g. for IAM tokens.
    try {
      password = await (password as () => unknown)()
    } catch (error) {
      throw new CliError(
        ErrorCode.KNEXFILE_FAILED,
        `the connection.password function in the knexfile failed: ${scrubSecrets(error instanceof Error ? error.message : String(error)).split('\n')[0]}`,
        {cause: error},
      )
    }
  }
  if (typeof password === 'string') parts.password = password
  else if (password !== undefined && password !== null) {
    throw new CliError(ErrorCode.KNEXFILE_FAILED, `Expected connection.password in the knexfile to be a string, got ${typeof password}`)
  }
  registerSecret(parts.password)
  const {ssl} = connection
  if (ssl === false) parts.sslMode = 'disable'
  else if (ssl === true) parts.sslMode = 'verify-full'
  else if (ssl !== undefined && ssl !== null && typeof ssl === 'object') {
    // pg's semantics: an ssl object verifies the certificate unless rejectUnauthorized is false.
    parts.sslMode = (ssl as TlsOptions).rejectUnauthorized === false ? 'require' : 'verify-full'
    parts.tls = mergeTls(parts.tls, ssl as TlsOptions)
  }
  return parts
}

function parsePort(value: string, error: () => CliError): number {
  if (!/^\d+$/.test(value)) throw error()
  const port = Number(value)
  if (port < 1 || port > 65_535) throw error()
  return port
}

function parseSslMode(value: string, error: () => CliError): SslMode {
  if (value === 'no-verify') return 'require' // pg-connection-string's spelling
  if (!(SSL_MODES as readonly string[]).includes(value)) throw error()
  return value as SslMode
}

/** libpq: seconds; 0 or negative = wait forever; values below 2 become 2. */
function parseConnectTimeout(value: string, error: () => CliError): number {
  if (!/^-?\d+$/.test(value.trim())) throw error()
  const seconds = Number(value)
  if (seconds <= 0) return 0
  return Math.max(seconds, 2) * 1000
}

function readTlsFile(key: 'sslcert' | 'sslkey' | 'sslrootcert', file: string, cwd: string): TlsOptions {
  let content: string
  try {
    content = readFileSync(file.startsWith('/') ? file : `${cwd}/${file}`, 'utf8')
  } catch (error) {
    throw new CliError(ErrorCode.SSL_FAILED, `could not read ${key} file "${file}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  switch (key) {
    case 'sslrootcert': {
      return {ca: content}
    }
    case 'sslcert': {
      return {cert: content}
    }
    case 'sslkey': {
      return {key: content}
    }
  }
}

function mergeTls(base: TlsOptions | undefined, extra: TlsOptions | undefined): TlsOptions | undefined {
  if (base === undefined) return extra
  if (extra === undefined) return base
  return {...base, ...extra}
}
