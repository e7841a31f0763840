import type {Logger, LoggerOptions} from 'pino'

import {redactUrl, REDACTED, scrubDeep, scrubSecrets} from './redact.js'

export type {Logger} from 'pino'

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn'

/**
 * Paths pino censors whatever their value. URL-ish fields keep their shape
 * (`postgres://user:***@host/db`), everything else becomes `***`.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'PGPASSWORD',
  '*.PGPASSWORD',
  'connectionString',
  '*.connectionString',
  '*.*.connectionString',
  'url',
  '*.url',
  '*.*.url',
  'databaseUrl',
  '*.databaseUrl',
  'DATABASE_URL',
  '*.DATABASE_URL',
  'tls',
  '*.tls',
  'ssl.key',
  '*.ssl.key',
]

function censor(value: unknown, path: string[]): unknown {
  const key = path.at(-1) ?? ''
  if (typeof value === 'string' && /url|connectionstring/i.test(key)) return redactUrl(value)
  return REDACTED
}

export interface CreateLoggerOptions {
  level?: LogLevel
  /** File descriptor to write to; default 2 (stderr). Tests may pass another. */
  fd?: number
  /** Bound to every record. */
  bindings?: Record<string, unknown>
}

/** The pino options poolctl uses (exported for tests). */
export function loggerOptions(level: LogLevel = DEFAULT_LOG_LEVEL, bindings: Record<string, unknown> = {}): LoggerOptions {
  return {
    base: {pid: process.pid, ...bindings},
    formatters: {
      // Runs on every record's merged object: scrub strings, flatten Errors.
      log: (object) => scrubDeep(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg))
        return method.apply(this, scrubbed as Parameters<typeof method>)
      },
    },
    level,
    name: 'poolctl',
    redact: {censor, paths: REDACT_PATHS},
    // Errors were already serialized (and scrubbed) by formatters.log; pino's
    // default err serializer would re-type them as "Object".
    serializers: {err: (value: unknown) => value},
    timestamp: true,
  }
}

/**
 * A pino logger writing JSON lines to stderr synchronously (nothing is lost
 * when the process exits right after an error). Loaded lazily so that
 * `poolctl --help` never pays for pino.
 */
export async function createLogger(options: CreateLoggerOptions = {}): Promise<Logger> {
  const {default: pino} = await import('pino')
  const destination = pino.destination({dest: options.fd ?? 2, sync: true})
  return pino(loggerOptions(options.level, options.bindings), destination)
}

/** A logger that drops everything, for library calls made without one. */
export async function silentLogger(): Promise<Logger> {
  const {default: pino} = await import('pino')
  return pino({enabled: false})
}
