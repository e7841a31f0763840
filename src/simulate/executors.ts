/** Database mode's executor: a pool of real pg clients (src/pg's createPgPool), tasks run real SQL. */
import type pg from 'pg'

import {createPgPool} from '../pg/pg-pool.js'
import type {Executor} from './engine.js'

export function databaseExecutor(client: pg.ClientConfig, query: string | undefined): Executor<pg.Client> {
  return {
    createPool: (options) => createPgPool({...options, client}),
    cancellable: true,
    async serve(connection, serviceMs, {signal}) {
      // A task that times out or is stopped must not keep its statement running: closing the socket
      // fails the query (the pool then destroys the client) and the server ends the backend.
      const onAbort = (): void => destroySocket(connection)
      signal.addEventListener('abort', onAbort, {once: true})
      try {
        if (signal.aborted) throw signal.reason
        await (query === undefined ? connection.query('SELECT pg_sleep($1)', [serviceMs / 1000]) : connection.query(query))
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    },
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
