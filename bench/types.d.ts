// pg-pool ships no types (and @types/pg does not cover it): just what the bench calls.
declare module 'pg-pool' {
  import {EventEmitter} from 'node:events'

  namespace Pool {
    interface Options {
      max?: number
      connectionTimeoutMillis?: number
      idleTimeoutMillis?: number
      /** The client class the pool instantiates (`new Client(options)`), normally pg's. */
      Client?: new (options: object) => object
    }

    interface Client {
      release(error?: Error | boolean): void
    }
  }

  class Pool<C extends object = object> extends EventEmitter {
    constructor(options?: Pool.Options)
    connect(): Promise<C & Pool.Client>
    end(): Promise<void>
    readonly waitingCount: number
  }

  export = Pool
}
