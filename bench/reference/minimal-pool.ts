import {Ring} from './ring.js'

/**
 * The physical limit of a pool in Node: a free-list array, a ring buffer of waiting resolvers and a
 * direct hand-off on release. No timeouts, no creation, no bookkeeping, no error paths, so a real pool
 * can only approach it. It exists so "x cycles/s" can be read as "y% of what is possible at all".
 */
export class MinimalPool<T> {
  private readonly free: T[]
  private readonly waiters = new Ring<(resource: T) => void>()

  constructor(resources: T[]) {
    this.free = [...resources]
  }

  acquire(): Promise<T> {
    const resource = this.free.pop()
    if (resource !== undefined) return Promise.resolve(resource)
    return new Promise<T>((resolve) => this.waiters.push(resolve))
  }

  release(resource: T): void {
    // Hand-off: the oldest waiter gets the resource without it touching the free list.
    const waiter = this.waiters.shift()
    if (waiter === undefined) this.free.push(resource)
    else waiter(resource)
  }
}
