import {ExitCode, type ExitCodeValue} from './cli/exit-codes.js'

/**
 * Stable, machine-readable error codes. `--json` prints them as `error.code`;
 * tests match on them, never on the wording of a message.
 */
export const ErrorCode = {
  // Could not connect (exit 3)
  BAD_URL: 'BAD_URL',
  CONNECTION_REFUSED: 'CONNECTION_REFUSED',
  HOST_NOT_FOUND: 'HOST_NOT_FOUND',
  HOST_UNREACHABLE: 'HOST_UNREACHABLE',
  CONNECT_TIMEOUT: 'CONNECT_TIMEOUT',
  CONNECTION_RESET: 'CONNECTION_RESET',
  AUTH_FAILED: 'AUTH_FAILED',
  NO_PASSWORD: 'NO_PASSWORD',
  DATABASE_NOT_FOUND: 'DATABASE_NOT_FOUND',
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  SERVER_NOT_READY: 'SERVER_NOT_READY',
  SSL_FAILED: 'SSL_FAILED',
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  QUERY_FAILED: 'QUERY_FAILED',
  // Could not read the project's configuration (exit 3)
  KNEXFILE_NOT_FOUND: 'KNEXFILE_NOT_FOUND',
  KNEXFILE_FAILED: 'KNEXFILE_FAILED',
  KNEXFILE_NO_ENV: 'KNEXFILE_NO_ENV',
  KNEXFILE_UNSUPPORTED_CLIENT: 'KNEXFILE_UNSUPPORTED_CLIENT',
  KNEXFILE_NO_CONNECTION: 'KNEXFILE_NO_CONNECTION',
  // unlock-migrations (src/unlock): a lock table poolctl will not touch (exit 3), a lock
  // held by a live session (exit 2), a change refused (exit 1)
  TABLE_SHAPE: 'TABLE_SHAPE',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  LOCK_HELD: 'LOCK_HELD',
  NOT_HOLDER: 'NOT_HOLDER',
  REFUSED: 'REFUSED',
  STATE_CHANGED: 'STATE_CHANGED',
  // Bad command line (exit 64)
  USAGE: 'USAGE',
  // simulate: a scenario file that cannot be read or has bad fields (exit 64, like a bad flag)
  BAD_SCENARIO: 'BAD_SCENARIO',
  // init: --dir is not a Node.js project, or the sizing flags contradict each other (exit 64)
  NOT_A_PROJECT: 'NOT_A_PROJECT',
  BAD_SIZING: 'BAD_SIZING',
  // A bug or something nobody anticipated (exit 3)
  INTERNAL: 'INTERNAL',
} as const

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode]

const EXIT_CODE_BY_ERROR: Partial<Record<ErrorCodeValue, ExitCodeValue>> = {
  LOCK_HELD: ExitCode.CRITICAL,
  NOT_HOLDER: ExitCode.WARNING,
  REFUSED: ExitCode.WARNING,
  STATE_CHANGED: ExitCode.WARNING,
  USAGE: ExitCode.USAGE,
  BAD_SCENARIO: ExitCode.USAGE,
  NOT_A_PROJECT: ExitCode.USAGE,
  BAD_SIZING: ExitCode.USAGE,
}

export interface CliErrorOptions {
  cause?: unknown
  /** Overrides the exit code derived from `code`. */
  exitCode?: ExitCodeValue
}

/**
 * The error type poolctl's commands and their libraries (src/cli, src/pg, src/knex, …) throw: a
 * stable `code` and the exit code it maps to. `message` is always safe to print: whoever builds it
 * redacts secrets first (see src/cli/redact.ts), and the CLI scrubs it once more before printing.
 * (The core library has its own base, `PoolctlError` in src/core/errors.ts, which knows no exit codes.)
 */
export class CliError extends Error {
  override readonly name = 'CliError'
  readonly code: ErrorCodeValue
  readonly exitCode: ExitCodeValue

  constructor(code: ErrorCodeValue, message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.code = code
    this.exitCode = options.exitCode ?? EXIT_CODE_BY_ERROR[code] ?? ExitCode.UNKNOWN
  }
}

export function isCliError(value: unknown): value is CliError {
  return value instanceof CliError
}
