/** simulate's load-model flags: one per config field, all parsed (and validated) by src/simulate/config.ts. */
import {Flags} from '@oclif/core'

const LOAD = 'LOAD MODEL'
const text = (summary: string) => Flags.string({helpGroup: LOAD, summary})

export const simulateFlags = {
  virtual: Flags.boolean({helpGroup: LOAD, summary: 'No database: a deterministic discrete-event run on a virtual clock, far faster than real time.'}),
  seed: text('Random seed: the same seed gives the same load (and, with --virtual, the same report) [default: 1].'),
  scenario: Flags.string({summary: 'Read the load model from a JSON or YAML file whose keys are these flag names; flags win.'}),
  connections: text('Pool size (ConnectionPool max); several values, e.g. 5,10,20, compare configurations [default: 10].'),
  'max-active': text('Tasks running at once (QueueBroker maxActiveTasks) [default: --connections].'),
  'queue-size': text('Tasks allowed to wait (maxQueueSize); beyond it, backpressure rejects; or `unbounded` [default: 100].'),
  rate: text('Arrivals per second for a steady run (instead of --phases) [default: 200].'),
  arrivals: text('poisson (random gaps) or constant (even gaps) [default: poisson].'),
  duration: text('Length of a steady run, with a unit: 30s, 2m [default: 20s].'),
  phases: text('Traffic shape: kind:duration@rate, comma-separated; kinds steady, ramp (rate from-to), spike [default: steady:8s@150,spike:4s@400,steady:8s@150].'),
  'service-time': text('Mean service time of a task, with a unit [default: 50ms].'),
  'service-dist': text('constant, exponential or lognormal [default: exponential].'),
  'service-p99': text('p99 of the lognormal service time (1–14× the mean) [default: 4× the mean].'),
  'failure-rate': text('Fraction of tasks that fail, 0–1 [default: 0].'),
  'task-timeout': text('Per-task timeout (QueueBroker taskTimeoutMs), with a unit; 0s = none [default: none].'),
  tenants: text('Number of tenants; tenant-1 is the noisy one [default: 0 = no tenants].'),
  'tenant-limit': text('Tasks one tenant may run at once [default: half of --max-active].'),
  'noisy-share': text("tenant-1's share of the traffic, 0–1 [default: 0.5]."),
  'background-share': text('Share of tasks that are background work (low priority); the rest is user-facing (high) [default: 0.2].'),
  retries: text('Retries of a failed task, with exponential backoff and full jitter; exhausted → dead letter [default: 0].'),
  'breaker-threshold': text('Consecutive failures that open a circuit breaker; 0 = no breaker [default: 0].'),
  'breaker-reset': text('How long the breaker stays open before probing [default: 5s].'),
  'target-wait': text('Queue wait to size the recommended queue for [default: 500ms].'),
  'max-connections': text("The server's max_connections, for the instances recommendation [default: read from the server]."),
  query: text('SQL each task runs instead of SELECT pg_sleep(service time) (database mode).'),
  report: Flags.string({summary: 'Also write the JSON report to this file.'}),
  'metrics-port': Flags.integer({min: 0, max: 65_535, summary: 'Serve live metrics in Prometheus format on http://127.0.0.1:PORT/metrics.'}),
}
