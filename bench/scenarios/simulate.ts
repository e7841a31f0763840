/**
 * `poolctl simulate --virtual`'s engine: simulated tasks per wall second (each one an arrival drawn
 * from a Poisson process, a queue slot, a pool connection and a service timer on the virtual clock)
 * next to p-limit running trivial async tasks in the same process (100 producers, concurrency 10, as in
 * queue-throughput); and how much faster than real time a one-hour, 1,000 tasks/s scenario runs.
 */
import pLimit from 'p-limit'
import {buildConfig} from '../../src/simulate/config.js'
import {Simulation} from '../../src/simulate/engine.js'
import {SimulationClock, virtualExecutor} from '../../src/simulate/virtual.js'
import {labelFor} from '../env.js'
import {type BenchOptions, type Contender, type Scenario, TimeBox, perSecond} from '../harness.js'

/** Tasks per wall second of one virtual run; `speedup` instead gives simulated time / wall time. */
async function simulateVirtual(duration: string, measure: 'tasks' | 'speedup'): Promise<number> {
  const config = buildConfig({virtual: true, rate: '1000', duration, connections: '60', 'service-time': '50ms', 'queue-size': '1000'})
  const clock = new SimulationClock()
  const started = performance.now()
  const result = await new Simulation(config, {clock, executor: virtualExecutor(clock)}).run()
  const wallMs = performance.now() - started
  if (result.totals.completed === 0) throw new Error('the simulation completed no task')
  return measure === 'tasks' ? result.totals.submitted / (wallMs / 1000) : result.elapsedMs / wallMs
}

async function pLimitSteady(durationMs: number): Promise<number> {
  const limit = pLimit(10)
  const task = async (): Promise<number> => 1
  const box = new TimeBox(durationMs)
  const producer = async (): Promise<void> => {
    while (!box.stop) {
      await limit(task)
      box.tick()
    }
  }
  await Promise.all(Array.from({length: 100}, producer))
  return box.rate()
}

export function simulateScenarios({quick}: BenchOptions): Scenario[] {
  // Ten simulated minutes (600,000 tasks) a round: the harness's full GC before each round throws away
  // optimised code (V8 deoptimises on weak objects), and a short round would mostly measure re-warming.
  const tasksRun = quick ? '30s' : '10m'
  const hour = quick ? '5m' : '1h'
  const contender = (id: string, label: string, measure: () => Promise<number>, note: string): Contender => ({id, label, note, measure})
  return [
    {
      id: 'simulate-rate',
      group: 'simulate',
      title: 'simulate --virtual: simulated tasks per wall second, next to p-limit',
      method: `A virtual run of ${tasksRun} at 1,000 tasks/s (Poisson arrivals, exponential 50 ms service, 60 connections, queue bound 1,000): tasks submitted / wall seconds. p-limit: trivial async tasks/s, 100 producers, concurrency 10, 400 ms.`,
      unit: perSecond('tasks/s'),
      rounds: quick ? 3 : 5,
      subject: 'simulate',
      contenders: [
        contender('simulate', 'poolctl simulate --virtual', () => simulateVirtual(tasksRun, 'tasks'), 'QueueBroker + ConnectionPool on the virtual clock, histograms, history'),
        contender('p-limit', labelFor('p-limit'), () => pLimitSteady(quick ? 100 : 400), 'pLimit(10), `async () => 1`: no arrivals, no timers, no pool'),
      ],
      goals: [{kind: 'within', of: 'p-limit', factor: 2, label: 'simulator ≥ half of p-limit’s rate'}],
    },
    {
      id: 'simulate-speedup',
      group: 'simulate',
      title: `simulate --virtual: speed-up over real time of ${quick ? 'a 5-minute' : 'a one-hour'}, 1,000 tasks/s scenario`,
      method: `One virtual run of ${hour} at 1,000 tasks/s (${quick ? '300,000' : '3,600,000'} tasks; as above); simulated time / wall time.`,
      unit: {label: '× real time', better: 'higher', format: (value) => `${value.toFixed(0)}×`},
      rounds: 1,
      subject: 'simulate',
      contenders: [
        {
          id: 'simulate',
          label: 'poolctl simulate --virtual',
          measure: () => simulateVirtual(hour, 'speedup'),
          warmup: () => simulateVirtual('10s', 'speedup'),
        },
      ],
      goals: [],
    },
  ]
}
