/**
 * The virtual engine against queueing theory: Poisson arrivals, exponential service, c connections.
 * Fixed seeds keep the runs deterministic; each check pools several seeds so that no single lucky
 * seed is what passes it. A bias in the engine (a wrong clock, a task started late, a slot freed
 * twice) moves these numbers by far more than 5 %.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {erlangC, mmckBlocking, runVirtual} from './support.js'

const SEEDS = [1, 2, 3]

/** Poisson arrivals at `lambda`/s, exponential service, `c` connections, all tasks user-facing. */
function mmc(seed: number, c: number, lambda: number, serviceMs: number, queue: string, duration: string) {
  return runVirtual({
    seed: String(seed),
    connections: String(c),
    'queue-size': queue,
    rate: String(lambda),
    duration,
    'service-time': `${serviceMs}ms`,
    'service-dist': 'exponential',
    'background-share': '0',
  })
}

describe('virtual mode reproduces queueing theory', () => {
  it('M/M/c with an unbounded queue: mean queue wait within 5 % of Erlang C', async () => {
    const c = 4
    const lambda = 20 // per second
    const serviceMs = 100 // μ = 10/s, a = 2, ρ = 0.5
    let waitSum = 0
    let tasks = 0
    for (const seed of SEEDS) {
      const result = await mmc(seed, c, lambda, serviceMs, 'unbounded', '5000s')
      assert.equal(result.totals.rejected, 0)
      assert.equal(result.totals.completed, result.totals.submitted)
      assert.ok(result.maxInUse <= c)
      waitSum += result.queueWaitMs.mean * result.queueWaitMs.count
      tasks += result.queueWaitMs.count
    }
    const a = (lambda * serviceMs) / 1000
    const expectedMs = (erlangC(c, a) / (c * (1000 / serviceMs) - lambda)) * 1000
    const observedMs = waitSum / tasks
    assert.ok(tasks > 250_000, `enough tasks (${tasks})`)
    assert.ok(Math.abs(observedMs / expectedMs - 1) < 0.05, `mean wait ${observedMs.toFixed(3)} ms vs Erlang C ${expectedMs.toFixed(3)} ms`)
  })

  it('M/M/c/K: the share rejected by backpressure within 5 % of the blocking probability', async () => {
    const c = 2
    const queue = 3 // K = 5
    const lambda = 20
    const serviceMs = 100 // a = 2, ρ = 1: heavy blocking
    let rejected = 0
    let submitted = 0
    for (const seed of SEEDS) {
      const result = await mmc(seed, c, lambda, serviceMs, String(queue), '2000s')
      assert.ok(result.maxQueueDepth <= queue)
      rejected += result.totals.rejected
      submitted += result.totals.submitted
    }
    const expected = mmckBlocking(c, c + queue, (lambda * serviceMs) / 1000)
    const observed = rejected / submitted
    assert.ok(Math.abs(observed / expected - 1) < 0.05, `blocking ${observed.toFixed(4)} vs M/M/c/K ${expected.toFixed(4)}`)
  })
})
