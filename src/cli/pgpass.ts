import {readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'

/**
 * `.pgpass` support, read the way libpq reads it (libpq's `passwordFromFile`):
 * - the file is `$PGPASSFILE`, else `~/.pgpass`;
 * - it is ignored, with a warning, unless it is a plain file with no group or
 *   world permissions (0600 or stricter);
 * - each line is `hostname:port:database:username:password`, `*` matches
 *   anything in the first four fields, `\:` and `\\` escape, `#` starts a comment;
 * - the first matching line wins.
 */

export interface PgpassField {
  /** Unescaped value. */
  readonly value: string
  /** The field was a bare `*`. */
  readonly wildcard: boolean
}

export interface PgpassEntry {
  readonly host: PgpassField
  readonly port: PgpassField
  readonly database: PgpassField
  readonly user: PgpassField
  readonly password: string
  /** 1-based line number, for messages. */
  readonly line: number
}

export interface PgpassTarget {
  host: string
  port: number
  database: string
  user: string
}

export interface PgpassLookup {
  /** The file that was considered, whether or not it was used. */
  file: string
  password?: string
  /** Set when the file exists but was ignored. */
  warning?: string
}

const DEFAULT_SOCKET_DIRS = new Set(['/tmp', '/var/run/postgresql', '/run/postgresql'])

/**
 * Parse the text of a .pgpass file. A line needs at least four unescaped colons
 * (five fields); shorter lines are skipped, as libpq does. The password ends at
 * the next unescaped colon (libpq ignores anything after it).
 */
export function parsePgpass(text: string): PgpassEntry[] {
  const entries: PgpassEntry[] = []
  const lines = text.split('\n')
  for (const [index, rawLine] of lines.entries()) {
    const line = rawLine.replace(/\r$/, '')
    if (line.length === 0 || line.startsWith('#')) continue
    const fields = splitFields(line)
    if (fields.length < 5) continue
    const [host, port, database, user, password] = fields.map((raw) => toField(raw))
    entries.push({database, host, line: index + 1, password: password.value, port, user})
  }
  return entries
}

/** Raw (still escaped) fields split on unescaped colons. */
function splitFields(line: string): string[] {
  const fields: string[] = []
  let raw = ''
  for (let i = 0; i < line.length; i++) {
    const char = line[i]
    if (char === '\\' && i + 1 < line.length) {
      raw += char + line[i + 1]
      i++
      continue
    }
    if (char === ':') {
      fields.push(raw)
      raw = ''
      continue
    }
    raw += char
  }
  fields.push(raw)
  return fields
}

function toField(raw: string): PgpassField {
  return {value: unescape(raw), wildcard: raw === '*'}
}

function unescape(raw: string): string {
  return raw.replace(/\\(.)/g, '$1')
}

function matches(field: PgpassField, value: string): boolean {
  return field.wildcard || field.value === value
}

/** First entry matching the target, libpq-style. */
export function findPgpassEntry(entries: readonly PgpassEntry[], target: PgpassTarget): PgpassEntry | undefined {
  // libpq matches a connection over the default Unix socket as `localhost`.
  const host = target.host === '' || DEFAULT_SOCKET_DIRS.has(target.host) ? 'localhost' : target.host
  const port = String(target.port)
  return entries.find(
    (entry) =>
      matches(entry.host, host) &&
      matches(entry.port, port) &&
      matches(entry.database, target.database) &&
      matches(entry.user, target.user),
  )
}

export function pgpassFilePath(environ: NodeJS.ProcessEnv, homedir: string): string {
  const fromEnv = environ.PGPASSFILE
  return fromEnv && fromEnv.length > 0 ? fromEnv : join(homedir, '.pgpass')
}

/**
 * Look the target up in the user's password file. Never throws: a missing or
 * unreadable file is "no password"; an unsafe one is ignored with a warning.
 */
export function lookupPgpass(
  target: PgpassTarget,
  options: {environ: NodeJS.ProcessEnv; homedir: string; platform?: NodeJS.Platform},
): PgpassLookup {
  const file = pgpassFilePath(options.environ, options.homedir)
  let stats
  try {
    stats = statSync(file)
  } catch {
    return {file}
  }
  if (!stats.isFile()) {
    return {file, warning: `password file "${file}" is not a plain file; ignoring it`}
  }
  // libpq skips the permission check on Windows.
  if ((options.platform ?? process.platform) !== 'win32' && (stats.mode & 0o077) !== 0) {
    return {
      file,
      warning: `password file "${file}" has group or world access (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}); permissions should be u=rw (0600) or less; ignoring it`,
    }
  }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return {file}
  }
  const entry = findPgpassEntry(parsePgpass(text), target)
  return entry ? {file, password: entry.password} : {file}
}
