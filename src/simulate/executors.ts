/** Database mode's executor: a pool of real pg clients (src/pg's createPgPool), tasks run real SQL. */
import pg from 'pg'

import {createPgPool} from '../pg/pg-pool.js'
import type {Executor} from './engine.js'

export function databaseExecutor(client: pg.ClientConfig, query: string | undefined): Executor<pg.Client> {
  return {
    createPool: (options) => createPgPool({...options, client}),
    cancellable: true,
    serve(connection, serviceMs, {signal}, done) {
      // A task that times out or is stopped must not keep its statement running. A backend notices a
      // closed socket only when it next talks to the client (or every client_connection_check_interval),
      // so a long statement would run on: cancel it (a cancel request needs no free connection slot),
      // then close the socket, which fails the query here (the pool destroys the client) and ends the backend.
      const onAbort = (): void => {
        cancelStatement(client, connection)
        destroySocket(connection)
      }
      if (signal.aborted) return done(signal.reason ?? new Error('aborted'))
      signal.addEventListener('abort', onAbort, {once: true})
      let statement: Promise<unknown>
      try {
        statement = query === undefined ? connection.query('SELECT pg_sleep($1)', [serviceMs / 1000]) : connection.query(query)
      } catch (error) {
        // Never leave the listener behind: a later abort would cancel another borrower's statement.
        signal.removeEventListener('abort', onAbort)
        return done(error ?? new Error('the statement could not be sent'))
      }
      statement.then(
        () => {
          signal.removeEventListener('abort', onAbort)
          done()
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort)
          done(error ?? new Error('the statement failed'))
        },
      )
    },
  }
}

/** What pg keeps of a connected client for its own cancel(): the backend key and the running query. */
interface CancellableClient {
  processID: number | null
  secretKey: number | null
  activeQuery: unknown
}

/** Send PostgreSQL's CancelRequest for `target`'s running statement, on a connection of its own, through
 * pg's Client#cancel (it handles TLS and Unix sockets). Best effort: a failure only means the socket
 * close below is what ends the statement. */
function cancelStatement(config: pg.ClientConfig, target: pg.Client): void {
  const {processID, secretKey, activeQuery} = target as unknown as CancellableClient
  if (processID === null || secretKey === null || activeQuery === null || activeQuery === undefined) return
  try {
    // poolctl-ignore separate-pool -- a cancel request is sent on a connection of its own, by protocol
    const canceller = new pg.Client(config) as pg.Client & {cancel(client: pg.Client, query: unknown): void}
    const {connection} = canceller as unknown as {connection: {on(event: string, listener: () => void): void; stream?: {destroy(): void}}}
    connection.on('error', () => undefined)
    // The server closes a cancel connection itself; this only bounds how long a stuck one may live.
    setTimeout(() => connection.stream?.destroy(), 5000).unref()
    canceller.cancel(target, activeQuery)
  } catch {
    // the socket close still ends the statement
  }
}

function destroySocket(client: pg.Client): void {
  try {
    ;(client as unknown as {connection?: {stream?: {destroy(): void}}}).connection?.stream?.destroy()
  } catch {
    // already gone
  }
}

/** max_connections and superuser_reserved_connections, for the instances recommendation. */
export async function readServerLimits(client: pg.ClientConfig): Promise<{maxConnections: number; superuserReserved: number}> {
  const {default: pgModule} = await import('pg')
  const connection = new pgModule.Client(client)
  connection.on('error', () => undefined)
  await connection.connect()
  try {
    const {rows} = await connection.query<{max: string; reserved: string}>(
      "SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved",
    )
    return {maxConnections: Number(rows[0].max), superuserReserved: Number(rows[0].reserved)}
  } finally {
    await connection.end().catch(() => undefined)
  }
}
