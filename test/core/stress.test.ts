import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'

import {BackpressureError, ConnectionPool, QueueBroker, seededRandom} from '../../src/core/index.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed
}

/** A random number (0–3) of event-loop turns: tasks finish in a shuffled order. */
async function randomWork(random: () => number): Promise<void> {
  const hops = Math.floor(random() * 4)
  for (let i = 0; i < hops; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('stress', () => {
  it('100,000 tasks from 1,000 producers: the queue never passes its bound and memory returns after drain', async () => {
    const MAX_QUEUE = 500
    const MAX_ACTIVE = 16
    const broker = new QueueBroker({maxActiveTasks: MAX_ACTIVE, maxQueueSize: MAX_QUEUE})
    const random = seededRandom(2026)
    let peakQueued = 0
    let peakActive = 0
    let running = 0
    let completed = 0
    let backpressured = 0

    // Warm up code paths and allocation sites so the baseline is not taken cold.
    await Promise.all(Array.from({length: MAX_QUEUE}, () => broker.enqueue(() => randomWork(random))))
    const baseline = heapAfterGc()

    const producer = async (): Promise<void> => {
      for (let sent = 0; sent < 100; ) {
        try {
          const pending = broker.enqueue(async () => {
            running++
            peakActive = Math.max(peakActive, running)
            await randomWork(random)
            running--
            completed++
          })
          peakQueued = Math.max(peakQueued, broker.stats().queued)
          await pending
          sent++
        } catch (error) {
          assert.ok(error instanceof BackpressureError, String(error))
          backpressured++
          // A client told "queue full" backs off before trying again.
          await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(random() * 4)))
        }
      }
    }

    await Promise.all(Array.from({length: 1000}, producer))
    assert.equal(completed, 100_000)
    assert.ok(peakQueued <= MAX_QUEUE, `peak queued ${peakQueued} ≤ ${MAX_QUEUE}`)
    assert.equal(peakQueued, MAX_QUEUE, 'the bound was actually reached (the test exercised backpressure)')
    assert.ok(backpressured > 0)
    assert.equal(peakActive, MAX_ACTIVE)
    await broker.end()
    const after = heapAfterGc()
    // Nothing retained per task: 100k tasks at even 50 bytes each would be 5 MB.
    assert.ok(after - baseline < 2 * 1024 * 1024, `heap grew by ${((after - baseline) / 1024).toFixed(0)} KiB after drain`)
  })

  it('1,000 concurrent borrowers, max 10: never more than 10 out, every borrower served, pool intact', async () => {
    let serial = 0
    const random = seededRandom(7)
    const pool = new ConnectionPool<{id: number}>({
      max: 10,
      acquireTimeoutMs: 60_000,
      factory: {create: async () => ({id: ++serial}), destroy: () => {}},
    })
    let out = 0
    let peak = 0
    let served = 0
    await Promise.all(
      Array.from({length: 1000}, async () => {
        for (let i = 0; i < 20; i++) {
          await pool.withResource(async () => {
            out++
            peak = Math.max(peak, out)
            await randomWork(random)
            out--
            served++
          })
        }
      }),
    )
    assert.equal(served, 20_000)
    assert.equal(peak, 10)
    assert.equal(serial, 10, 'no resource lost and re-created')
    const stats = pool.stats()
    assert.deepEqual([stats.used, stats.pending, stats.idle], [0, 0, 10])
    await pool.end()
  })
})
