/**
 * What the load generator draws: gaps between arrivals (Poisson or evenly spaced, following the
 * phases' rate) and service times (constant, exponential, lognormal with a given mean and p99).
 */
import type {Random} from '../core/index.js'
import type {Phase, SimulationConfig} from './config.js'

/** z of the 99th percentile of the standard normal. */
const Z99 = 2.326_347_874

export type Sampler = () => number

/** Service times in ms with the configured mean (and p99 for lognormal). */
export function serviceSampler(config: Pick<SimulationConfig, 'serviceDist' | 'serviceTimeMs' | 'serviceP99Ms'>, random: Random): Sampler {
  const mean = config.serviceTimeMs
  switch (config.serviceDist) {
    case 'constant':
      return () => mean
    case 'exponential':
      return () => -mean * Math.log(1 - random())
    case 'lognormal': {
      const {mu, sigma} = lognormalParameters(mean, config.serviceP99Ms ?? mean * 4)
      return () => Math.exp(mu + sigma * standardNormal(random))
    }
  }
}

/**
 * mean = exp(μ + σ²/2) and p99 = exp(μ + z·σ), so σ²/2 − z·σ + ln(p99/mean) = 0: the smaller root
 * (the larger would put the mode far out in the tail). Needs ln(p99/mean) ≤ z²/2 ≈ 2.71.
 */
export function lognormalParameters(meanMs: number, p99Ms: number): {mu: number; sigma: number} {
  const gap = Math.log(p99Ms / meanMs)
  const sigma = Z99 - Math.sqrt(Math.max(0, Z99 * Z99 - 2 * gap))
  return {mu: Math.log(meanMs) - (sigma * sigma) / 2, sigma}
}

/** Box–Muller, one value per call (the second is dropped: simpler, and draws stay in lockstep). */
function standardNormal(random: Random): number {
  const u = 1 - random()
  const v = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/** Arrival rate (per second) at `atMs` from the start, 0 after the last phase. */
export function rateAt(phases: readonly Phase[], atMs: number): number {
  let start = 0
  for (const phase of phases) {
    const end = start + phase.durationMs
    if (atMs < end) return phase.rate + ((phase.toRate - phase.rate) * (atMs - start)) / phase.durationMs
    start = end
  }
  return 0
}

/**
 * The next arrival after `nowMs`, or undefined when the phases are over. Poisson: thinning
 * (Lewis–Shedler) against the peak rate, so ramps are exact non-homogeneous Poisson processes.
 * Constant: evenly spaced at the current rate.
 */
export function nextArrival(config: Pick<SimulationConfig, 'phases' | 'arrivals'>, peak: number, endMs: number, nowMs: number, random: Random): number | undefined {
  let at = nowMs
  if (config.arrivals === 'constant') {
    for (;;) {
      const rate = rateAt(config.phases, at)
      if (rate > 0) {
        at += 1000 / rate
        return at < endMs ? at : undefined
      }
      // A zero-rate stretch: skip ahead in 1 ms steps until traffic resumes or the run ends.
      at += 1
      if (at >= endMs) return undefined
    }
  }
  for (;;) {
    at += (-Math.log(1 - random()) * 1000) / peak
    if (at >= endMs) return undefined
    const rate = rateAt(config.phases, at)
    if (rate >= peak || random() * peak < rate) return at
  }
}
