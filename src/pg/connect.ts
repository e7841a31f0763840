import type {Client} from 'pg'
import type {Logger} from 'pino'

import {ErrorCode, CliError} from '../errors.js'
import {type ConnectionSettings, toPgClientConfig} from './connection-settings.js'
import {describeConnectError} from './errors.js'

export interface ConnectOptions {
  /** `poolctl-<suffix>` as application_name, e.g. `ping`, `inspect`. */
  applicationNameSuffix?: string
  logger?: Logger
}

/** Grace on top of pg's own connectionTimeoutMillis before our own deadline fires. */
const DEADLINE_GRACE_MILLIS = 250

/**
 * Open one `pg.Client` with poolctl's settings. Resolves with a connected
 * client (the caller must `end()` it) or rejects with a CliError.
 *
 * The connect timeout is enforced twice: by pg (`connectionTimeoutMillis`) and
 * by our own deadline, because pg's timer does not cover every stall
 * (node-postgres #3197, a DNS lookup that never returns). A client that loses
 * the race is destroyed, never returned.
 *
 * sslmode `prefer`/`allow` try TLS first and fall back to plain TCP when the
 * server refuses TLS, like libpq.
 */
export async function connectClient(settings: ConnectionSettings, options: ConnectOptions = {}): Promise<Client> {
  const {default: pg} = await import('pg')
  const {logger} = options
  logger?.debug(
    {applicationNameSuffix: options.applicationNameSuffix, sslMode: settings.sslMode, target: settings.displayUrl},
    'connecting',
  )
  const startedAt = performance.now()
  try {
    const client = await attempt(pg.Client, settings, options, false)
    logger?.debug({connectMs: round(performance.now() - startedAt)}, 'connected')
    return client
  } catch (error) {
    const fallback =
      (settings.sslMode === 'prefer' || settings.sslMode === 'allow') &&
      /does not support SSL/i.test(String((error as CliError).cause ?? ''))
    if (!fallback) throw error
    logger?.debug('server does not support TLS; retrying without it (sslmode=%s)', settings.sslMode)
    const client = await attempt(pg.Client, settings, options, true)
    logger?.debug({connectMs: round(performance.now() - startedAt)}, 'connected')
    return client
  }
}

async function attempt(
  ClientClass: typeof Client,
  settings: ConnectionSettings,
  options: ConnectOptions,
  withoutTls: boolean,
): Promise<Client> {
  const client = new ClientClass(
    toPgClientConfig(settings, {applicationNameSuffix: options.applicationNameSuffix, withoutTls}),
  )
  // An error on an idle client must not crash the process (no listener = throw).
  client.on('error', (error) => options.logger?.debug({err: error}, 'connection error'))
  const connecting = client.connect()
  // If the deadline wins, pg's own rejection arrives later: keep it handled.
  connecting.catch(() => undefined)
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    if (settings.connectTimeoutMillis <= 0) return
    timer = setTimeout(() => {
      reject(new CliError(ErrorCode.CONNECT_TIMEOUT, 'deadline'))
    }, settings.connectTimeoutMillis + DEADLINE_GRACE_MILLIS)
    timer.unref()
  })
  try {
    await Promise.race([connecting, deadline])
    return client
  } catch (error) {
    destroy(client)
    if (error instanceof CliError && error.code === ErrorCode.CONNECT_TIMEOUT) {
      throw describeConnectError(Object.assign(new Error('connect deadline exceeded'), {code: 'ETIMEDOUT'}), settings)
    }
    throw describeConnectError(error, settings)
  } finally {
    clearTimeout(timer)
  }
}

function destroy(client: Client): void {
  try {
    ;(client as unknown as {connection?: {stream?: {destroy(): void}}}).connection?.stream?.destroy()
  } catch {
    // already gone
  }
}

/** End a client, never throwing and never waiting more than `timeoutMillis`. */
export async function closeClient(client: Client, timeoutMillis = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    client.end().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        destroy(client)
        resolve()
      }, timeoutMillis)
      timer.unref()
    }),
  ])
  clearTimeout(timer)
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
