import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {buildConfig} from '../../src/simulate/config.js'
import {Simulation} from '../../src/simulate/engine.js'
import {SimulationClock, virtualExecutor} from '../../src/simulate/virtual.js'
import {startMetricsServer} from '../../src/simulate/metrics.js'

describe('simulate --metrics-port', () => {
  it('serves the live snapshot in Prometheus text format', async () => {
    const clock = new SimulationClock()
    const simulation = new Simulation(buildConfig({virtual: true, rate: '300', duration: '5s', connections: '5', 'queue-size': '10'}), {clock, executor: virtualExecutor(clock)})
    await simulation.run()
    const server = await startMetricsServer(0, () => simulation.snapshot())
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`)
      assert.equal(response.status, 200)
      const text = await response.text()
      assert.match(text, /^# TYPE poolctl_simulate_queue_depth gauge$/m)
      assert.match(text, /^poolctl_simulate_pool_connections\{state="max"\} 5$/m)
      const rejected = simulation.snapshot().totals.rejected
      assert.ok(rejected > 0)
      assert.match(text, new RegExp(`^poolctl_simulate_tasks\\{outcome="rejected"\\} ${rejected}$`, 'm'))
      assert.match(text, /^poolctl_simulate_latency_ms\{part="queue_wait",quantile="99"\} [\d.]+$/m)
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/`)).status, 404)
    } finally {
      await server.close()
    }
  })
})
