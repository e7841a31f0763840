import {Command, Errors, Flags, type Interfaces} from '@oclif/core'

// Keep this module light: `poolctl --help` and every command load it. Anything
// heavy (pg, pino, knex, the knexfile loader) is imported inside methods.
import type {ConnectionSettings} from '../pg/connection-settings.js'
import type {ResolvedConnection} from './connection.js'
import type {Logger, LogLevel} from './logger.js'

import {isCliError} from '../errors.js'
import {ExitCode, type ExitCodeValue} from './exit-codes.js'
import {durationFlag} from './flags.js'
import {scrubSecrets} from './redact.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const LOG_LEVEL_OPTIONS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const

const duration = durationFlag

/** What a failed command prints and exits with. */
export interface Failure {
  code: string
  message: string
  exitCode: ExitCodeValue
}

/**
 * Every poolctl command extends this. It owns:
 * - the shared flags (connection, timeouts, `--log-level`, oclif's `--json`);
 * - the logger (pino JSON on stderr, secrets scrubbed);
 * - connection resolution (`this.connectionSettings()`);
 * - error output and exit codes (`catch`): one `poolctl: <message>` line on
 *   stderr, or one `{"error": {code, message}}` object on stdout with `--json`,
 *   and the exit code from src/cli/exit-codes.ts. Stack traces only with
 *   `--log-level debug` (or trace).
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  /** Flags every command has. */
  static loggingFlags = {
    'log-level': Flags.option({
      default: 'warn' as LogLevel,
      env: 'POOLCTL_LOG_LEVEL',
      helpGroup: 'GLOBAL',
      options: LOG_LEVEL_OPTIONS,
      summary: 'Level of the structured (pino JSON) log written to stderr.',
    })(),
  }

  /** Flags of commands that talk to a database. */
  static connectionFlags = {
    'connect-timeout': duration({
      helpGroup: 'CONNECTION',
      summary: 'Give up connecting after this long, e.g. 500ms, 10s (bare number = seconds) [default: 10s, or PGCONNECT_TIMEOUT].',
    }),
    env: Flags.string({
      dependsOn: ['knexfile'],
      helpGroup: 'CONNECTION',
      summary: 'knexfile environment to use [default: NODE_ENV, else development].',
    }),
    knexfile: Flags.string({
      exclusive: ['url'],
      helpGroup: 'CONNECTION',
      summary: "Read the connection from the project's knexfile (.js, .cjs, .mjs, .ts).",
    }),
    'lock-timeout': duration({
      helpGroup: 'CONNECTION',
      summary: "lock_timeout for poolctl's own sessions; 0 = server default [default: 5s].",
    }),
    'statement-timeout': duration({
      helpGroup: 'CONNECTION',
      summary: "statement_timeout for poolctl's own sessions; 0 = server default [default: 30s].",
    }),
    url: Flags.string({
      char: 'u',
      helpGroup: 'CONNECTION',
      summary: 'PostgreSQL URL, postgres://user:password@host:5432/db [default: DATABASE_URL, else PG* variables].',
    }),
  }

  static override baseFlags = {...BaseCommand.loggingFlags, ...BaseCommand.connectionFlags}

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected logger!: Logger

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: this.ctor.baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    const {createLogger} = await import('./logger.js')
    this.logger = await createLogger({bindings: {command: this.id}, level: this.logLevel()})
  }

  /**
   * Resolve the connection from the flags and the environment (see
   * src/cli/connection.ts). Warnings go to stderr as `poolctl: warning: ...`.
   */
  protected async resolveConnection(options: {applicationName?: string} = {}): Promise<ResolvedConnection> {
    const {resolveConnection} = await import('./connection.js')
    const flags = this.flags as Record<string, unknown>
    const resolved = await resolveConnection({
      applicationName: options.applicationName,
      connectTimeoutMillis: flags['connect-timeout'] as number | undefined,
      env: flags.env as string | undefined,
      knexfile: flags.knexfile as string | undefined,
      lockTimeoutMillis: flags['lock-timeout'] as number | undefined,
      statementTimeoutMillis: flags['statement-timeout'] as number | undefined,
      url: flags.url as string | undefined,
    })
    for (const warning of resolved.warnings) this.warnLine(warning)
    this.logger.debug(
      {connection: resolved.settings, knexfile: resolved.knexfile?.path, knexEnvironment: resolved.knexfile?.environment},
      'resolved connection',
    )
    return resolved
  }

  protected async connectionSettings(options: {applicationName?: string} = {}): Promise<ConnectionSettings> {
    return (await this.resolveConnection(options)).settings
  }

  /** A warning for humans: one line on stderr (also in --json mode; stdout stays clean). */
  protected warnLine(message: string): void {
    process.stderr.write(`poolctl: warning: ${scrubSecrets(message)}\n`)
    this.logger?.debug({warning: message}, 'warning')
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    // `this.exit(n)` and oclif's own exits are control flow, not failures.
    if (error instanceof Errors.ExitError) throw error
    const failure = toFailure(error)
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify({error: {code: failure.code, message: failure.message}}, null, 2)}\n`)
    } else {
      process.stderr.write(`poolctl: ${failure.message}\n`)
    }
    const level = this.logLevel()
    if ((level === 'debug' || level === 'trace') && !this.jsonEnabled() && error.stack) {
      process.stderr.write(`${scrubSecrets(error.stack)}\n`)
    }
    this.logger?.debug({err: error, exitCode: failure.exitCode}, 'command failed')
    process.exitCode = failure.exitCode
    return this.exit(failure.exitCode)
  }

  /** The log level, also when flag parsing failed (then read from argv/env). */
  protected logLevel(): LogLevel {
    const fromFlags = (this.flags as Record<string, unknown> | undefined)?.['log-level']
    if (typeof fromFlags === 'string') return fromFlags as LogLevel
    const index = this.argv.findIndex((arg) => arg === '--log-level' || arg.startsWith('--log-level='))
    const raw = index === -1 ? process.env.POOLCTL_LOG_LEVEL : this.argv[index].split('=')[1] ?? this.argv[index + 1]
    return (LOG_LEVEL_OPTIONS as readonly string[]).includes(raw ?? '') ? (raw as LogLevel) : 'warn'
  }
}

/** Classify an error into code, safe one-line message and exit code. */
export function toFailure(error: unknown): Failure {
  if (isCliError(error)) {
    return {code: error.code, exitCode: error.exitCode, message: oneLine(scrubSecrets(error.message))}
  }
  const err = error as {message?: unknown; oclif?: {exit?: unknown}}
  const message = oneLine(scrubSecrets(String(err?.message ?? error)))
  // oclif's parse/validation errors (and failing custom flag parsers) carry `oclif.exit`.
  if (typeof err?.oclif?.exit === 'number') {
    const usage = message
      .replace(/^The following errors? occurred:;\s*/i, '')
      .replace(/;?\s*See more help with --help$/i, '')
    return {code: 'USAGE', exitCode: ExitCode.USAGE, message: `${usage} (see --help)`}
  }
  return {code: 'INTERNAL', exitCode: ExitCode.UNKNOWN, message: message || 'unexpected error'}
}

function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join('; ')
}
