import {scrubSecrets} from '../cli/redact.js'
import {ErrorCode, type ErrorCodeValue, CliError} from '../errors.js'
import type {ConnectionSettings} from './connection-settings.js'

/**
 * Turn whatever `pg.Client#connect` threw into one CliError with a short,
 * secret-free message. The original error stays available as `cause` (for
 * `--log-level debug`), never in the message.
 */
export function describeConnectError(error: unknown, settings: ConnectionSettings): CliError {
  if (error instanceof CliError) return error
  const err = (error ?? {}) as NodeJS.ErrnoException & {code?: string; message?: string}
  const target = settings.host.startsWith('/')
    ? `socket ${settings.host}/.s.PGSQL.${settings.port}`
    : `${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`
  const serverMessage = scrubSecrets(String(err.message ?? error)).split('\n')[0]
  const make = (code: ErrorCodeValue, message: string) => new CliError(code, message, {cause: error})

  switch (err.code) {
    case 'ECONNREFUSED': {
      return make(ErrorCode.CONNECTION_REFUSED, `could not connect to ${target}: connection refused`)
    }
    case 'ENOENT': {
      return make(ErrorCode.CONNECTION_REFUSED, `could not connect to ${target}: no such socket`)
    }
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL': {
      return make(ErrorCode.HOST_NOT_FOUND, `could not connect to ${target}: could not resolve host "${settings.host}"`)
    }
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN': {
      return make(ErrorCode.HOST_UNREACHABLE, `could not connect to ${target}: host unreachable`)
    }
    case 'ETIMEDOUT': {
      return timeout(settings, target, error)
    }
    case 'ECONNRESET':
    case 'EPIPE': {
      return make(ErrorCode.CONNECTION_RESET, `could not connect to ${target}: the server closed the connection`)
    }
    case '28P01': {
      return make(
        ErrorCode.AUTH_FAILED,
        `could not connect to ${target}: password authentication failed for user "${settings.user}"${passwordHint(settings)}`,
      )
    }
    case '28000': {
      return make(ErrorCode.AUTH_FAILED, `could not connect to ${target}: ${serverMessage}`)
    }
    case '3D000': {
      return make(ErrorCode.DATABASE_NOT_FOUND, `could not connect to ${target}: database "${settings.database}" does not exist`)
    }
    case '53300': {
      return make(ErrorCode.TOO_MANY_CONNECTIONS, `could not connect to ${target}: ${serverMessage}`)
    }
    case '57P03': {
      return make(ErrorCode.SERVER_NOT_READY, `could not connect to ${target}: ${serverMessage}`)
    }
  }
  if (/timeout|timed out/i.test(serverMessage)) return timeout(settings, target, error)
  if (/ssl|tls|certificate/i.test(serverMessage) || String(err.code ?? '').startsWith('ERR_TLS') || /CERT|SELF_SIGNED/.test(String(err.code ?? ''))) {
    return make(ErrorCode.SSL_FAILED, `could not connect to ${target}: ${serverMessage}`)
  }
  if (/terminated unexpectedly|Connection terminated/i.test(serverMessage)) {
    return make(ErrorCode.CONNECTION_RESET, `could not connect to ${target}: the server closed the connection`)
  }
  return make(ErrorCode.CONNECTION_FAILED, `could not connect to ${target}: ${serverMessage}`)
}

function timeout(settings: ConnectionSettings, target: string, cause: unknown): CliError {
  return new CliError(
    ErrorCode.CONNECT_TIMEOUT,
    `could not connect to ${target}: timed out after ${settings.connectTimeoutMillis} ms (--connect-timeout)`,
    {cause},
  )
}

function passwordHint(settings: ConnectionSettings): string {
  switch (settings.passwordSource) {
    case 'url': {
      return ' (password from the URL)'
    }
    case 'PGPASSWORD': {
      return ' (password from PGPASSWORD)'
    }
    case 'pgpass': {
      return ' (password from the .pgpass file)'
    }
    case 'knexfile': {
      return ' (password from the knexfile)'
    }
    case 'none': {
      return ''
    }
  }
}

/** A query error: SQLSTATE and the server's message, scrubbed. */
export function describeQueryError(error: unknown, what: string): CliError {
  if (error instanceof CliError) return error
  const err = (error ?? {}) as {code?: string; message?: string}
  const sqlstate = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? ` [${err.code}]` : ''
  return new CliError(
    ErrorCode.QUERY_FAILED,
    `${what} failed${sqlstate}: ${scrubSecrets(String(err.message ?? error)).split('\n')[0]}`,
    {cause: error},
  )
}
