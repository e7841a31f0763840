import {type Clock, ConnectionPool, type ConnectionPoolOptions, type ResourceFactory} from '../../src/core/index.js'

export interface FakeResource {
  id: number
  destroyed: boolean
}

export interface FakeFactoryOptions {
  /** Make the first N creates fail. */
  failFirst?: number
  /** Create takes this long on `clock` (0 = resolves on the next microtask). */
  createDelayMs?: number
  clock?: Clock
  validate?: ResourceFactory<FakeResource>['validate']
  /** Error used for failed creates. */
  error?: () => Error
}

/** A factory of plain objects that counts what it does, for pool tests that need no database. */
export function fakeFactory(options: FakeFactoryOptions = {}) {
  const counters = {creates: 0, createFailures: 0, destroys: 0, live: new Set<FakeResource>()}
  let serial = 0
  const factory: ResourceFactory<FakeResource> = {
    async create(signal) {
      counters.creates++
      if (options.createDelayMs && options.clock) {
        await new Promise<void>((resolve) => options.clock!.setTimeout(resolve, options.createDelayMs!))
      }

      if (counters.creates <= (options.failFirst ?? 0)) {
        counters.createFailures++
        throw options.error?.() ?? Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'})
      }

      const resource = {id: ++serial, destroyed: false}
      counters.live.add(resource)
      void signal
      return resource
    },
    destroy(resource) {
      counters.destroys++
      resource.destroyed = true
      counters.live.delete(resource)
    },
    validate: options.validate,
  }
  return {factory, counters}
}

export function fakePool(
  poolOptions: Partial<ConnectionPoolOptions<FakeResource>> & {max: number},
  factoryOptions: FakeFactoryOptions = {},
) {
  const {factory, counters} = fakeFactory({clock: poolOptions.clock, ...factoryOptions})
  const pool = new ConnectionPool<FakeResource>({createRetryDelayMs: 1, ...poolOptions, factory})
  return {pool, counters}
}

/** Resolve after the current macrotask turn: lets every pending promise chain run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Record how a promise settled without letting it reject unhandled. */
export function track<T>(promise: Promise<T>) {
  const state: {status: 'pending' | 'fulfilled' | 'rejected'; value?: T; error?: unknown} = {status: 'pending'}
  promise.then(
    (value) => Object.assign(state, {status: 'fulfilled', value}),
    (error: unknown) => Object.assign(state, {status: 'rejected', error}),
  )
  return state
}
