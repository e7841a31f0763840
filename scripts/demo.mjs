#!/usr/bin/env node
// Quick-start demo: start a throwaway embedded PostgreSQL, push a burst of real queries through the core's
// QueueBroker (bounded, backpressure) and the pg adapter's pool, print what happened, stop the server.
// `poolctl simulate` (its own issue) will replace this with the full load model and live UI.
import {QueueBroker, BackpressureError} from '../dist/src/index.js'
import {createPgPool} from '../dist/src/pg/index.js'
import {startEmbeddedPostgres} from '../dist/src/embedded/embedded-postgres.js'

process.stdout.write('Starting an embedded PostgreSQL 17 (temporary, removed on exit)… ')
const server = await startEmbeddedPostgres()
console.log(`ready on ${server.displayUrl}`)
const pool = createPgPool({client: {connectionString: server.url, application_name: 'poolctl-demo'}, max: 5, acquireTimeoutMs: 2000})
const broker = new QueueBroker({maxActiveTasks: 5, maxQueueSize: 50})
try {
  const started = performance.now()
  const outcomes = await Promise.allSettled(
    Array.from({length: 200}, (_, i) =>
      broker.enqueue(() => pool.withResource((client) => client.query('select pg_sleep(0.01), $1::int as n', [i]))),
    ),
  )
  const seconds = (performance.now() - started) / 1000
  const served = outcomes.filter((o) => o.status === 'fulfilled').length
  const shed = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof BackpressureError).length
  const {created} = pool.stats()
  console.log(`200 queries offered at once → ${served} served, ${shed} shed by backpressure (queue bound 50), in ${seconds.toFixed(2)} s`)
  console.log(`pool: max 5, ${created} connections opened; queue: ${JSON.stringify(broker.stats().queuedByPriority)} left`)
} finally {
  await broker.end()
  await pool.end()
  await server.stop()
  console.log('Embedded PostgreSQL stopped; nothing left behind.')
}
