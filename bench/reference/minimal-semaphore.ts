import {Ring} from './ring.js'

/**
 * The yardstick for the queue: what a hand-written limiter costs. A counter, a ring buffer of waiting
 * resolvers, and a release that hands the slot straight to the oldest waiter (the counter never dips,
 * so nobody can jump the queue). No queue bound, timeouts, priorities or stats.
 */
export class MinimalSemaphore {
  private active = 0
  private readonly waiters = new Ring<() => void>()

  constructor(private readonly limit: number) {}

  async run<R>(task: () => Promise<R>): Promise<R> {
    if (this.active < this.limit) this.active++
    else await new Promise<void>((resolve) => this.waiters.push(resolve))
    try {
      return await task()
    } finally {
      const next = this.waiters.shift()
      if (next === undefined) this.active--
      else next()
    }
  }
}
