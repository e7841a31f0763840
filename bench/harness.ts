/**
 * The measuring machinery shared by every scenario: warm-up, interleaved rounds, median/min/max, the
 * subject-vs-others ratios and the goal verdicts, and their markdown rendering.
 *
 * Why interleaved: a 2-core VM drifts (turbo, noisy neighbours, GC pressure left by the previous
 * contender). Running round 1 = every contender once, round 2 = every contender again, … spreads that
 * drift over all contenders alike, and a ratio taken within one round cancels most of it.
 */

export type Better = 'higher' | 'lower'

export interface Unit {
  /** Shown in the table header, e.g. "cycles/s". */
  label: string
  better: Better
  format(value: number): string
}

export interface Contender {
  /** Stable key used by goals, e.g. "core", "tarn". */
  id: string
  /** Row label, e.g. "tarn 3.1.2". */
  label: string
  /** What is switched on, or what differs (shown under the table). */
  note?: string
  /** A yardstick written for the bench, not a library. */
  reference?: boolean
  /** One measurement, in the scenario's unit. Must leave nothing running behind it. */
  measure(): Promise<number>
  /** Run before the rounds so the JIT has seen the code; defaults to one discarded measure(). */
  warmup?(): Promise<unknown>
  /** Builds what the rounds share (a pool, a queue), before the warm-up. */
  setup?(): Promise<void>
  /** Ends it after the last round. */
  teardown?(): Promise<void>
}

/**
 * A contender whose subject (pool, queue, policy) is built once and used by every round, as an
 * application uses one long-lived pool. Building a fresh one per round was tried first: after a few
 * rounds V8 kept deoptimising code tied to the dead instances and some contenders settled into a
 * ~3× slower state that says more about V8's heuristics than about the library.
 */
export function persistent<T>(spec: {
  id: string
  label: string
  note?: string
  reference?: boolean
  open(): T
  close?(subject: T): unknown
  measure(subject: T): Promise<number>
  warmup?(subject: T): Promise<unknown>
}): Contender {
  let opened: {subject: T} | undefined
  const get = (): T => {
    if (opened === undefined) throw new Error(`${spec.id}: setup() did not run`)
    return opened.subject
  }

  return {
    id: spec.id,
    label: spec.label,
    note: spec.note,
    reference: spec.reference,
    async setup() {
      opened = {subject: spec.open()}
    },
    measure: () => spec.measure(get()),
    warmup: () => (spec.warmup ?? spec.measure)(get()),
    async teardown() {
      if (opened !== undefined) await spec.close?.(opened.subject)
      opened = undefined
    },
  }
}

export type Goal =
  /** subject is at least `factor` times better than `vs`. */
  | {kind: 'faster'; vs: string; factor: number; label?: string}
  /** the reference `of` is at most `factor` times better than the subject. */
  | {kind: 'within'; of: string; factor: number; label?: string}
  /** the subject's median is at most `value` (a lower-is-better unit). */
  | {kind: 'at-most'; value: number; label?: string}

export interface Scenario {
  id: string
  /** The file it comes from; `--only <group>` selects all of a group's scenarios. */
  group: string
  title: string
  /** One or two sentences: what is measured and how. */
  method: string
  unit: Unit
  rounds: number
  /** The contender every ratio is taken against (poolctl's own code). */
  subject: string
  contenders: Contender[]
  goals: Goal[]
  /** Returns why the scenario cannot run now (e.g. "not built"), or undefined. */
  skip?(): string | undefined
}

export interface Spread {
  median: number
  min: number
  max: number
}

export interface ContenderResult {
  contender: Contender
  samples: number[]
  stats: Spread | undefined
  /** subject's advantage over this contender (>1: subject better), median and range over rounds. */
  ratio: Spread | undefined
  error: string | undefined
}

export interface GoalResult {
  text: string
  measured: string
  pass: boolean
  /** How far off a failed goal is. */
  shortfall: string | undefined
}

export interface ScenarioResult {
  scenario: Scenario
  skipped: string | undefined
  contenders: ContenderResult[]
  goals: GoalResult[]
  seconds: number
}

export type Log = (line: string) => void

/** A full GC so one contender's garbage is not collected on the next one's clock. */
export function collectGarbage(): void {
  if (globalThis.gc !== undefined) {
    globalThis.gc()
    globalThis.gc()
  }
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return {median, min: sorted[0], max: sorted[sorted.length - 1]}
}

/** >1 when `subject` is better than `other`, whatever the unit's direction. */
function advantage(unit: Unit, subject: number, other: number): number {
  return unit.better === 'higher' ? subject / other : other / subject
}

export async function runScenario(scenario: Scenario, log: Log): Promise<ScenarioResult> {
  const started = performance.now()
  const reason = scenario.skip?.()
  if (reason !== undefined) {
    log(`[${scenario.id}] skipped: ${reason}`)
    return {scenario, skipped: reason, contenders: [], goals: [], seconds: 0}
  }

  const samples = new Map<string, number[]>(scenario.contenders.map((c) => [c.id, []]))
  const errors = new Map<string, string>()
  const fail = (contender: Contender, error: unknown): void => {
    const message = error instanceof Error ? error.message : String(error)
    errors.set(contender.id, message)
    log(`[${scenario.id}] ${contender.label} failed: ${message}`)
  }

  for (const contender of scenario.contenders) {
    try {
      await contender.setup?.()
      collectGarbage()
      await (contender.warmup ? contender.warmup() : contender.measure())
    } catch (error) {
      fail(contender, error)
    }
  }

  const live = scenario.contenders.filter((c) => !errors.has(c.id))
  for (let round = 0; round < scenario.rounds; round++) {
    // Rotate the starting contender each round so none always runs right after the same neighbour.
    const order = live.map((_, i) => live[(i + round) % live.length])
    const parts: string[] = []
    for (const contender of order) {
      if (errors.has(contender.id)) continue
      collectGarbage()
      try {
        const value = await contender.measure()
        samples.get(contender.id)!.push(value)
        parts.push(`${contender.id} ${scenario.unit.format(value)}`)
      } catch (error) {
        fail(contender, error)
      }
    }

    log(`[${scenario.id}] round ${round + 1}/${scenario.rounds}: ${parts.join(', ')}`)
  }

  for (const contender of scenario.contenders) {
    try {
      await contender.teardown?.()
    } catch (error) {
      fail(contender, error)
    }
  }

  const subjectSamples = errors.has(scenario.subject) ? [] : samples.get(scenario.subject)!
  const contenders: ContenderResult[] = scenario.contenders.map((contender) => {
    const own = samples.get(contender.id)!
    const error = errors.get(contender.id)
    const complete = error === undefined && own.length > 0
    let ratio: Spread | undefined
    if (complete && contender.id !== scenario.subject && subjectSamples.length === own.length) {
      // Per-round ratios: both numbers of a pair saw the same machine state.
      ratio = spread(own.map((value, i) => advantage(scenario.unit, subjectSamples[i], value)))
    }

    return {contender, samples: own, stats: complete ? spread(own) : undefined, ratio, error}
  })

  const goals = scenario.goals.map((goal) => judge(scenario, contenders, goal))
  return {scenario, skipped: undefined, contenders, goals, seconds: (performance.now() - started) / 1000}
}

// ---- goals ------------------------------------------------------------------------------------

export function times(value: number): string {
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)}×`
}

function judge(scenario: Scenario, results: ContenderResult[], goal: Goal): GoalResult {
  const subject = results.find((r) => r.contender.id === scenario.subject)
  const subjectLabel = subject?.contender.label ?? scenario.subject
  const find = (id: string): ContenderResult | undefined => results.find((r) => r.contender.id === id)
  const missing = (text: string, who: string): GoalResult => ({
    text,
    measured: `no result for ${who}`,
    pass: false,
    shortfall: 'not measured (see errors above)',
  })

  if (goal.kind === 'at-most') {
    const text = goal.label ?? `${subjectLabel} ≤ ${scenario.unit.format(goal.value)}`
    if (subject?.stats === undefined) return missing(text, subjectLabel)
    const value = subject.stats.median
    const pass = value <= goal.value
    const over = value - goal.value
    return {
      text,
      measured: scenario.unit.format(value),
      pass,
      shortfall: pass ? undefined : `over by ${scenario.unit.format(over)} (${((over / goal.value) * 100).toFixed(0)}%)`,
    }
  }

  const otherId = goal.kind === 'faster' ? goal.vs : goal.of
  const other = find(otherId)
  const otherLabel = other?.contender.label ?? otherId
  if (goal.kind === 'faster') {
    const text = goal.label ?? `${subjectLabel} ≥ ${goal.factor}× ${otherLabel}`
    if (other?.ratio === undefined) return missing(text, subject?.stats === undefined ? subjectLabel : otherLabel)
    const ratio = other.ratio.median
    const pass = ratio >= goal.factor
    return {
      text,
      measured: `${times(ratio)} (rounds ${times(other.ratio.min)}–${times(other.ratio.max)})`,
      pass,
      shortfall: pass ? undefined : `needs ${times(goal.factor / ratio)} more (reached ${((ratio / goal.factor) * 100).toFixed(0)}% of the goal)`,
    }
  }

  const text = goal.label ?? `${subjectLabel} within ${goal.factor}× of ${otherLabel}`
  if (other?.ratio === undefined) return missing(text, subject?.stats === undefined ? subjectLabel : otherLabel)
  // ratio < 1 here: the reference is better; its lead over the subject is 1/ratio.
  const lead = 1 / other.ratio.median
  const pass = lead <= goal.factor
  return {
    text,
    measured: lead >= 1 ? `reference ahead by ${times(lead)}` : `poolctl ahead by ${times(1 / lead)}`,
    pass,
    shortfall: pass ? undefined : `gap ${times(lead)} exceeds the allowed ${goal.factor}× by ${times(lead / goal.factor)}`,
  }
}

// ---- formatting -------------------------------------------------------------------------------

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k/s`
  return `${perSecond.toFixed(1)} /s`
}

export const perSecond = (label: string): Unit => ({label, better: 'higher', format: formatRate})

export const bytesPerItem: Unit = {label: 'heap bytes per queued task', better: 'lower', format: (v) => `${v.toFixed(0)} B`}

export const milliseconds: Unit = {label: 'wall ms', better: 'lower', format: (v) => `${v.toFixed(1)} ms`}

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

/** One scenario as markdown: a heading, the method, the contender table and its notes. */
export function renderScenario(result: ScenarioResult, index: number): string {
  const {scenario} = result
  const heading = `### ${index}. ${scenario.title}`
  if (result.skipped !== undefined) return `${heading}\n\n**Skipped:** ${result.skipped}\n`
  const subject = result.contenders.find((r) => r.contender.id === scenario.subject)
  const arrow = scenario.unit.better === 'higher' ? 'higher is better' : 'lower is better'
  const rows = result.contenders.map((r) => {
    const label = r.contender.reference ? `*${r.contender.label}*` : r.contender.label
    if (r.stats === undefined) return [label, `error: ${r.error ?? 'no samples'}`, '', '', '']
    const ratio =
      r.contender.id === scenario.subject
        ? '—'
        : r.ratio === undefined
          ? 'n/a'
          : `${times(r.ratio.median)} (${times(r.ratio.min)}–${times(r.ratio.max)})`
    const f = scenario.unit.format
    return [label, `**${f(r.stats.median)}**`, f(r.stats.min), f(r.stats.max), ratio]
  })
  const subjectLabel = subject?.contender.label ?? scenario.subject
  const table = markdownTable(
    [`contender`, `median (${scenario.unit.label})`, 'min', 'max', `${subjectLabel} vs this`],
    rows,
  )
  const notes = result.contenders
    .filter((r) => r.contender.note !== undefined)
    .map((r) => `- ${r.contender.label}: ${r.contender.note}`)
  const meta = `${scenario.method} Median of ${scenario.rounds} interleaved rounds, ${arrow}; "vs this" = median of the per-round ratios (range), >1× means ${subjectLabel} is better. Took ${result.seconds.toFixed(1)} s.`
  return [heading, '', meta, '', table, '', ...notes, ''].join('\n')
}

export function renderGoals(results: ScenarioResult[]): string {
  const rows: string[][] = []
  for (const result of results) {
    if (result.skipped !== undefined) {
      for (const goal of result.scenario.goals) {
        rows.push([result.scenario.id, goal.label ?? goal.kind, 'skipped', `SKIP: ${result.skipped}`])
      }

      continue
    }

    for (const goal of result.goals) {
      const verdict = goal.pass ? 'PASS' : `**FAIL**: ${goal.shortfall}`
      rows.push([result.scenario.id, goal.text, goal.measured, verdict])
    }
  }

  return markdownTable(['scenario', 'goal', 'measured (median)', 'result'], rows)
}

// ---- shared measuring helpers -----------------------------------------------------------------

export interface BenchOptions {
  /** Fewer rounds and smaller N: a smoke run, not a result. */
  quick: boolean
}

/**
 * Counts operations and raises `stop` once the duration has passed. The clock is read every 1024
 * operations instead of from a timer because the measured loops are promise-only: they never yield
 * to the event loop, so a setTimeout would never fire.
 */
export class TimeBox {
  count = 0
  stop = false
  readonly #started = performance.now()
  readonly #deadline: number

  constructor(durationMs: number) {
    this.#deadline = this.#started + durationMs
  }

  tick(): void {
    if ((++this.count & 1023) === 0 && performance.now() >= this.#deadline) this.stop = true
  }

  /** Operations per second from construction until now (call it once every worker has returned). */
  rate(): number {
    return this.count / ((performance.now() - this.#started) / 1000)
  }
}

/** Lets queued microtasks and immediates run (one macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
