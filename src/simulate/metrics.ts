/**
 * `--metrics-port`: the live run in Prometheus text format (prom-client), so dashboards and alerts can
 * be tried against a simulation. Values are read from the engine's snapshot at scrape time.
 */
import {createServer, type Server} from 'node:http'

import type {Snapshot} from './engine.js'

export interface MetricsServer {
  readonly port: number
  close(): Promise<void>
}

export async function startMetricsServer(port: number, snapshot: () => Snapshot | undefined): Promise<MetricsServer> {
  const {Gauge, Registry} = await import('prom-client')
  const registry = new Registry()
  const gauge = (name: string, help: string, labelNames: string[], read: (s: Snapshot, set: (value: number, labels?: Record<string, string>) => void) => void) =>
    new Gauge({
      name: `poolctl_simulate_${name}`,
      help,
      labelNames,
      registers: [registry],
      collect() {
        const current = snapshot()
        if (current === undefined) return
        read(current, (value, labels) => (labels === undefined ? this.set(value) : this.set(labels, value)))
      },
    })
  gauge('pool_connections', 'Connections of the simulated pool by state.', ['state'], (s, set) => {
    set(s.pool.inUse, {state: 'in_use'})
    set(s.pool.idle, {state: 'idle'})
    set(s.pool.max, {state: 'max'})
  })
  gauge('queue_depth', 'Tasks waiting in the queue.', [], (s, set) => set(s.queue.depth))
  gauge('queue_bound', 'maxQueueSize of the queue (+Inf when unbounded).', [], (s, set) => set(s.queue.bound))
  gauge('tasks', 'Tasks so far by outcome.', ['outcome'], (s, set) => {
    for (const [outcome, value] of Object.entries(s.totals)) set(value, {outcome})
  })
  gauge('latency_ms', 'Latency of completed tasks (ms) by part and quantile.', ['part', 'quantile'], (s, set) => {
    for (const [part, summary] of [['total', s.latencyMs], ['queue_wait', s.queueWaitMs], ['service', s.serviceMs]] as const) {
      for (const quantile of ['p50', 'p95', 'p99'] as const) set(summary[quantile], {part, quantile: quantile.slice(1)})
    }
  })
  gauge('breaker_open', '1 while the circuit breaker is open, 0.5 half-open, 0 closed or off.', [], (s, set) =>
    set(s.breaker === 'open' ? 1 : s.breaker === 'half-open' ? 0.5 : 0),
  )
  const server: Server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end('not found: try /metrics\n')
      return
    }
    registry.metrics().then(
      (text) => response.writeHead(200, {'content-type': registry.contentType}).end(text),
      (error: unknown) => response.writeHead(500).end(String(error)),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
