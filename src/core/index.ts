/**
 * poolctl's core: a pool, a bounded queue, a single-writer lane, a circuit breaker and retry, all on an
 * injectable clock. It imports nothing from the CLI, ink or pg, so any Node project can use it.
 */
export {ConnectionPool} from './pool.js'
export type {AcquireCallback, ConnectionPoolOptions, LeakReport, PoolErrorContext, PoolStats, ResourceFactory} from './pool.js'
export {QueueBroker} from './broker.js'
export type {CallbackTask, EnqueueCallback, EnqueueOptions, Priority, QueueBrokerOptions, QueueBrokerStats, Task, TaskContext} from './broker.js'
export {SingleWriterLane} from './lane.js'
export type {ResourceSource, SingleWriterLaneOptions} from './lane.js'
export {CircuitBreaker} from './breaker.js'
export type {CircuitBreakerOptions, CircuitBreakerStats, CircuitState} from './breaker.js'
export {RetryPolicy, retry} from './retry.js'
export type {DeadLetter, RetryOptions} from './retry.js'
export {VirtualClock, realClock, settle} from './clock.js'
export type {Clock, TimerHandle} from './clock.js'
export {seededRandom} from './random.js'
export type {Random} from './random.js'
export {RingBuffer} from './ring-buffer.js'
export {
  AbortedError,
  AcquireTimeoutError,
  BackpressureError,
  BrokenCircuitError,
  DoubleReleaseError,
  OptionsError,
  PoolEndedError,
  PoolctlError,
  QueueEndedError,
  TaskTimeoutError,
} from './errors.js'
