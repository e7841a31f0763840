/**
 * Latency histogram with log-spaced buckets (≈1 % apart from 1 µs to ~28 h): constant memory however
 * long the run, percentiles within ≈1 %, the mean exact (kept as a sum). Deterministic, so the same
 * seed gives the same report.
 */
const MIN_MS = 0.001
/** Buckets per e-fold: neighbours are e^(1/100) ≈ 1.01 apart. */
const PER_E = 100
const BUCKETS = Math.ceil(Math.log(1e8 / MIN_MS) * PER_E) + 2

export interface Summary {
  count: number
  mean: number
  p50: number
  p95: number
  p99: number
  max: number
}

export class Histogram {
  readonly #counts = new Float64Array(BUCKETS)
  #count = 0
  #sum = 0
  #max = 0

  record(ms: number): void {
    this.#counts[bucketOf(ms)]++
    this.#count++
    this.#sum += ms
    if (ms > this.#max) this.#max = ms
  }

  get count(): number {
    return this.#count
  }

  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count
  }

  /** The value below which `q` (0..1) of the samples fall; the bucket's geometric middle, 0 below 1 µs. */
  quantile(q: number): number {
    if (this.#count === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.#count))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]
      if (seen >= rank) return Math.min(this.#max, valueOf(i))
    }
    return this.#max
  }

  summary(): Summary {
    return {count: this.#count, mean: round(this.mean), p50: round(this.quantile(0.5)), p95: round(this.quantile(0.95)), p99: round(this.quantile(0.99)), max: round(this.#max)}
  }
}

function bucketOf(ms: number): number {
  if (!(ms >= MIN_MS)) return 0
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms / MIN_MS) * PER_E))
}

function valueOf(bucket: number): number {
  if (bucket === 0) return 0
  return MIN_MS * Math.exp((bucket - 0.5) / PER_E)
}

/** Milliseconds to 0.01 ms: enough for a report, stable in JSON. */
export function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
