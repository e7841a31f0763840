import type {VirtualClock} from '../../src/core/index.js'
import {type RawConfig, buildConfig} from '../../src/simulate/config.js'
import {Simulation, type SimulationResult} from '../../src/simulate/engine.js'
import {SimulationClock, virtualExecutor} from '../../src/simulate/virtual.js'
import {type Report, buildReport} from '../../src/simulate/report.js'

/** One virtual run of `raw` (flag names and string values, as on the command line). */
export async function runVirtual(raw: RawConfig, clock: VirtualClock = new SimulationClock()): Promise<SimulationResult> {
  const config = buildConfig({virtual: true, ...raw})
  return new Simulation(config, {clock, executor: virtualExecutor(clock)}).run()
}

export async function virtualReport(raw: RawConfig, clock: VirtualClock = new SimulationClock()): Promise<Report> {
  return buildReport(await runVirtual(raw, clock), undefined)
}

/** Erlang C: probability that an arrival waits in an M/M/c queue with offered load a = λ/μ. */
export function erlangC(c: number, a: number): number {
  let sum = 0
  let term = 1
  for (let k = 0; k < c; k++) {
    if (k > 0) term *= a / k
    sum += term
  }
  const waiting = ((term * a) / c) / (1 - a / c)
  return waiting / (sum + waiting)
}

/** M/M/c/K: probability that an arrival finds all K places (c serving + K − c waiting) taken. */
export function mmckBlocking(c: number, k: number, a: number): number {
  const p: number[] = []
  let term = 1
  for (let n = 0; n <= k; n++) {
    if (n > 0) term *= n <= c ? a / n : a / c
    p.push(term)
  }
  const total = p.reduce((x, y) => x + y, 0)
  return p[k] / total
}

/** Escape sequences (CSI, OSC) anywhere in the text. */
export const ESCAPE = /\u001b[[\]]/
