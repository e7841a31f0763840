import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {VirtualClock} from '../../src/core/index.js'
import {buildConfig} from '../../src/simulate/config.js'
import {Simulation, type SimulationResult} from '../../src/simulate/engine.js'
import {SimulationClock, virtualExecutor} from '../../src/simulate/virtual.js'
import {runVirtual, virtualReport} from './support.js'

const BUSY = {
  seed: '7',
  connections: '5',
  'queue-size': '40',
  phases: 'steady:5s@60,ramp:5s@60-200,spike:3s@300,steady:5s@60',
  'service-dist': 'lognormal',
  'service-time': '60ms',
  'service-p99': '300ms',
  'failure-rate': '0.3',
  retries: '2',
  'task-timeout': '2s',
  tenants: '4',
  'tenant-limit': '3',
  'breaker-threshold': '5',
}

describe('simulation engine (virtual)', () => {
  it('same seed → identical report (everything but wall-clock timing)', async () => {
    const {timing: _a, ...first} = await virtualReport(BUSY)
    const {timing: _b, ...second} = await virtualReport(BUSY)
    assert.deepEqual(second, first)
    const {timing: _c, ...other} = await virtualReport({...BUSY, seed: '8'})
    assert.notDeepEqual(other.totals, first.totals)
  })

  it("SimulationClock (settles only when promises are in flight) gives the same reports as the core's always-settling clock", async () => {
    const configs = [
      BUSY,
      {seed: '3', rate: '1000', duration: '20s', connections: '30'},
      {...BUSY, 'max-active': '9', 'task-timeout': '150ms'},
      // Acquires that time out in the pool's wait queue (acquireTimeout = task timeout), and priorities.
      {seed: '4', connections: '2', rate: '80', duration: '10s', 'task-timeout': '300ms', 'background-share': '0.4', 'queue-size': '30'},
      // The breaker opening, half-opening and closing again; retries without tenants.
      {seed: '6', connections: '3', rate: '50', duration: '20s', 'failure-rate': '0.6', 'breaker-threshold': '3', 'breaker-reset': '500ms', retries: '1'},
    ]
    for (const raw of configs) {
      const {timing: _fast, ...fast} = await virtualReport(raw)
      const {timing: _exact, ...exact} = await virtualReport(raw, new VirtualClock())
      assert.deepEqual(fast, exact)
    }
  })

  it('…and the same result for a run stopped halfway (abort from a sample, as q/Ctrl-C does)', async () => {
    const stopped = async (clock: VirtualClock): Promise<Omit<SimulationResult, 'wallMs'>> => {
      const config = buildConfig({virtual: true, ...BUSY, phases: 'steady:1h@150'})
      const stop = new AbortController()
      const {wallMs: _wall, ...result} = await new Simulation(config, {clock, executor: virtualExecutor(clock)}).run({
        signal: stop.signal,
        onSample: (sample) => sample.t >= 7 && stop.abort(),
      })
      return result
    }
    const fast = await stopped(new SimulationClock())
    assert.equal(fast.stopped, true)
    assert.ok(fast.totals.aborted > 0, 'the stop aborted queued or running tasks')
    assert.deepEqual(fast, await stopped(new VirtualClock()))
  })

  it('a stop aborts every task, also those waiting for a connection: nothing completes after it', async () => {
    // max-active above connections: tasks are running for the queue while they wait in the pool.
    const config = buildConfig({virtual: true, seed: '5', connections: '3', 'max-active': '10', rate: '200', duration: '1h', 'task-timeout': '5s'})
    const clock = new SimulationClock()
    const simulation = new Simulation(config, {clock, executor: virtualExecutor(clock)})
    const stop = new AbortController()
    let completedAtStop = -1
    const result = await simulation.run({
      signal: stop.signal,
      onSample: (sample) => {
        if (sample.t < 3 || stop.signal.aborted) return
        completedAtStop = simulation.snapshot().totals.completed
        stop.abort()
      },
    })
    assert.ok(completedAtStop > 0)
    assert.equal(result.totals.completed, completedAtStop)
    assert.ok(result.totals.aborted >= 10, `every running task aborted (${result.totals.aborted})`)
  })

  it('accounts for every task exactly once', async () => {
    const result = await runVirtual(BUSY)
    const {submitted, completed, rejected, failed, timedOut, aborted} = result.totals
    assert.equal(completed + rejected + failed + timedOut + aborted, submitted)
    assert.ok(rejected > 0, 'the spike overflows the queue')
    assert.ok(failed > 0 && result.retried > 0 && result.totals.deadLettered > 0)
    // (No queue-bound check here: a retried task goes back to the front without counting against
    // maxQueueSize again, by the core's design; theory.test.ts checks the bound without retries.)
    assert.ok(result.maxInUse <= 5)
    assert.equal(result.byTenant.reduce((sum, t) => sum + t.submitted, 0), submitted)
    const [noisy, ...quiet] = result.byTenant
    for (const tenant of quiet) assert.ok(noisy.submitted > 2 * tenant.submitted, 'tenant-1 is the noisy one')
  })

  it('user-facing (high) tasks wait less than background (low) ones under overload', async () => {
    const result = await runVirtual({seed: '3', connections: '4', 'queue-size': '200', rate: '120', duration: '60s', 'background-share': '0.5'})
    assert.ok(result.byPriority.high.latencyMs.mean < result.byPriority.low.latencyMs.mean)
  })

  it('the load is the same whatever the pool does with it (compare runs see the same arrivals)', async () => {
    const small = await runVirtual({seed: '5', connections: '2', rate: '100', duration: '10s'})
    const large = await runVirtual({seed: '5', connections: '20', rate: '100', duration: '10s'})
    assert.equal(small.totals.submitted, large.totals.submitted)
    assert.ok(small.totals.rejected > large.totals.rejected)
  })

  it('timeouts: tasks longer than --task-timeout are counted timed out, not completed', async () => {
    const result = await runVirtual({seed: '1', 'service-dist': 'constant', 'service-time': '300ms', 'task-timeout': '100ms', rate: '10', duration: '5s'})
    assert.equal(result.totals.completed, 0)
    assert.equal(result.totals.timedOut, result.totals.submitted)
  })

  it('the circuit breaker opens when every task fails', async () => {
    const result = await runVirtual({seed: '1', 'failure-rate': '1', 'breaker-threshold': '3', 'breaker-reset': '1s', rate: '50', duration: '5s'})
    assert.ok(result.breaker!.opened >= 1)
    assert.ok(result.breaker!.rejected > 0)
    assert.equal(result.totals.completed, 0)
  })

  it('an abort stops arrivals and aborts the queue; every connection is closed', async () => {
    const config = buildConfig({virtual: true, rate: '100', duration: '1h'})
    const clock = new SimulationClock()
    const simulation = new Simulation(config, {clock, executor: virtualExecutor(clock)})
    const stop = new AbortController()
    const running = simulation.run({signal: stop.signal, onSample: (sample) => sample.t >= 10 && stop.abort()})
    const result = await running
    assert.equal(result.stopped, true)
    assert.ok(result.elapsedMs < 20_000)
    assert.equal(simulation.snapshot().pool.inUse + simulation.snapshot().pool.idle, 0)
  })
})
