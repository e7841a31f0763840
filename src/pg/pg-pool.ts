import pg from 'pg'

import {AbortedError, ConnectionPool, type ConnectionPoolOptions} from '../core/index.js'

export type PgClient = pg.Client

export interface PgPoolOptions extends Omit<ConnectionPoolOptions<pg.Client>, 'factory' | 'isResourceError'> {
  /** How each client connects (pg's ClientConfig). application_name defaults to `poolctl`;
   * connectionTimeoutMillis defaults to the pool's createTimeoutMs/acquireTimeoutMs. */
  client: pg.ClientConfig
  /** Query run before handing out an idle client; null = no validation. @default 'SELECT 1' */
  validationQuery?: string | null
  /** How long a graceful close may take before the socket is destroyed. @default 1000 */
  closeTimeoutMs?: number
}

/** SQLSTATEs and socket codes after which a client must not be reused. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01', // admin_shutdown: pg_terminate_backend, server shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '08P01',
])

// Messages pg uses for a dead client; query read timeout leaves the client unusable (node-postgres #3399).
const CONNECTION_ERROR_MESSAGE = /Connection terminated|not queryable|Query read timeout|connection error/i


/**
 * A ConnectionPool of `pg.Client`s with pg-specific safety: a client that errors or ends while idle is
 * evicted (and the error never crashes the process), a client that errors while borrowed is destroyed
 * on release, validation and connect honour the pool's deadline even when the server black-holes, and a
 * connect that completes after its deadline is closed, not pooled.
 */
export function createPgPool(options: PgPoolOptions): ConnectionPool<pg.Client> {
  const {client, validationQuery = 'SELECT 1', closeTimeoutMs = 1000, ...poolOptions} = options
  const clientConfig: pg.ClientConfig = {
    application_name: 'poolctl',
    connectionTimeoutMillis: poolOptions.createTimeoutMs ?? poolOptions.acquireTimeoutMs ?? 30_000,
    ...client,
  }
  /** Clients that errored or ended: never handed out again (kept outside the pg object on purpose). */
  const broken = new WeakSet<pg.Client>()
  const onError = poolOptions.onError ?? (() => {})
  let pool: ConnectionPool<pg.Client> | undefined

  const markBroken = (pgClient: pg.Client, error?: unknown): void => {
    if (broken.has(pgClient)) return
    broken.add(pgClient)
    if (error !== undefined) onError(error, 'idle')
    pool?.evict(pgClient)
  }

  pool = new ConnectionPool<pg.Client>({
    // Idle clients used within the last 500 ms skip the validation round trip (HikariCP's default).
    validationBypassMs: 500,
    ...poolOptions,
    isResourceError: (error, pgClient) => broken.has(pgClient) || isConnectionError(error),
    factory: {
      create: (signal) => connectClient(clientConfig, signal, closeTimeoutMs, (pgClient) => {
        // Registered before connect resolves: an error at any time is handled, never thrown.
        pgClient.on('error', (error) => markBroken(pgClient, error))
        pgClient.on('end', () => markBroken(pgClient))
      }),
      destroy: (pgClient) => closeClient(pgClient, closeTimeoutMs),
      validate:
        validationQuery === null
          ? undefined
          : async (pgClient, signal) => {
              if (broken.has(pgClient)) return false
              await raceAbort(pgClient.query(validationQuery), signal, () => destroySocket(pgClient))
              return true
            },
    },
  })
  return pool
}

/** Whether an error means the connection itself is gone (as opposed to a failed statement). */
export function isConnectionError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false
  const {code, message} = error as {code?: unknown; message?: unknown}
  return (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) || (typeof message === 'string' && CONNECTION_ERROR_MESSAGE.test(message))
}

/**
 * Connect one client, bounded by `signal`: pg's own connectionTimeoutMillis does not cover a stalled DNS
 * lookup (node-postgres #3197), so the deadline is enforced here too. A connect that completes after the
 * signal aborted is closed in the background (node-postgres #3543).
 */
async function connectClient(
  config: pg.ClientConfig,
  signal: AbortSignal,
  closeTimeoutMs: number,
  prepare: (client: pg.Client) => void,
): Promise<pg.Client> {
  const client = new pg.Client(config)
  prepare(client)
  const connecting = client.connect()
  try {
    await raceAbort(connecting, signal, () => {
      destroySocket(client)
      connecting.then(
        () => closeClient(client, closeTimeoutMs),
        () => {},
      )
    })
  } catch (error) {
    destroySocket(client)
    throw error
  }

  return client
}

/** Settle with `promise`, or reject with AbortedError as soon as `signal` aborts (running `onAbort`). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort()
    promise.catch(() => {})
    return Promise.reject(new AbortedError('aborted at the pool deadline', {cause: signal.reason}))
  }

  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort()
      promise.catch(() => {})
      reject(new AbortedError('aborted at the pool deadline', {cause: signal.reason}))
    }

    signal.addEventListener('abort', abort, {once: true})
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort)
        reject(error)
      },
    )
  })
}

/** Graceful end, but never slower than `timeoutMs`: a black-holed server must not hold up shutdown. */
async function closeClient(client: pg.Client, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      destroySocket(client)
      resolve()
    }, timeoutMs)
    timer.unref()
  })
  try {
    await Promise.race([client.end().catch(() => {}), forced])
  } finally {
    clearTimeout(timer)
  }
}

function destroySocket(client: pg.Client): void {
  // `connection.stream` is pg's socket; not in its public types.
  const stream = (client as unknown as {connection?: {stream?: {destroy(): void}}}).connection?.stream
  stream?.destroy()
}
