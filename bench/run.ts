/**
 * Entry point of `npm run bench`: runs each scenario in a fresh Node process of its own (its contenders
 * side by side in it), prints the report and writes it into bench/README.md between the results markers.
 * A fresh process per scenario because code that earlier scenarios ran is not the same code any more:
 * V8's type feedback and heap carry over, and the simulator measured half its speed after the pool and
 * queue scenarios. A real program (or `poolctl simulate`) starts fresh too.
 *
 *   node --expose-gc dist/bench/run.js [--quick] [--only <scenario|group>[,…]] [--no-write | --write]
 *
 * --quick      fewer rounds and smaller N: a smoke run, not a result (does not write the README)
 * --only x     run only scenario or group x (repeatable, or comma-separated); does not write the README
 * --no-write   never touch bench/README.md;  --write: write it even with --quick/--only
 *
 * Exit code 1 when a contender threw (the bench itself is broken), 0 otherwise, whatever the goals say.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {libVersion, machine, projectRoot} from './env.js'
import {type BenchOptions, type Scenario, type ScenarioResult, renderGoals, renderScenario, runScenario} from './harness.js'
import {breakerRetryScenarios} from './scenarios/breaker-retry.js'
import {cliStartupScenarios} from './scenarios/cli-startup.js'
import {doctorScenarios} from './scenarios/doctor.js'
import {inspectScenarios} from './scenarios/inspect-vs-check-postgres.js'
import {poolScenarios} from './scenarios/pool-cycles.js'
import {queueMemoryScenarios} from './scenarios/queue-memory.js'
import {queueThroughputScenarios} from './scenarios/queue-throughput.js'
import {simulateScenarios} from './scenarios/simulate.js'

const LIBRARIES = ['tarn', 'generic-pool', 'pg-pool', 'p-limit', 'p-queue', 'cockatiel', 'opossum', 'knex']
const START = '<!-- results:start -->'
const END = '<!-- results:end -->'
const README = join(projectRoot, 'bench', 'README.md')

interface Args extends BenchOptions {
  only: string[]
  write: boolean
  /** Internal: run the selected scenarios in this process and print their results as JSON. */
  child: boolean
}

/** What a child process sends back: a ScenarioResult without the functions (scenario, contenders by id). */
interface ChildResult {
  scenario: string
  skipped: string | undefined
  seconds: number
  goals: ScenarioResult['goals']
  contenders: (Omit<ScenarioResult['contenders'][number], 'contender'> & {contender: string})[]
}

function parseArgs(argv: string[]): Args {
  const only: string[] = []
  let quick = false
  let write: boolean | undefined
  let child = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--quick') quick = true
    else if (arg === '--child') child = true
    else if (arg === '--no-write') write = false
    else if (arg === '--write') write = true
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length)
      if (!value) throw new Error('--only needs a scenario or group name')
      only.push(...value.split(',').filter(Boolean))
    } else if (arg === '--help' || arg === '-h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0])
      process.exit(0)
    } else throw new Error(`unknown argument ${arg} (try --help)`)
  }

  // A partial or quick run must not overwrite the full results unless asked to.
  return {quick, only, write: write ?? (!quick && only.length === 0), child}
}

/** Run one scenario in a fresh process; its contenders' errors say so if the process itself failed. */
function runInChild(scenario: Scenario, args: Args): ScenarioResult {
  const argv = ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), '--child', '--only', scenario.id, ...(args.quick ? ['--quick'] : [])]
  const child = spawnSync(process.execPath, argv, {stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  const line = child.stdout?.trim().split('\n').at(-1)
  let sent: ChildResult | undefined
  try {
    sent = line ? ((JSON.parse(line) as ChildResult[]).find((result) => result.scenario === scenario.id)) : undefined
  } catch {
    sent = undefined
  }

  if (sent === undefined) {
    const error = `the scenario's process failed (exit ${child.status ?? child.signal})`
    return {scenario, skipped: undefined, goals: [], seconds: 0, contenders: scenario.contenders.map((contender) => ({contender, samples: [], stats: undefined, ratio: undefined, error}))}
  }

  const byId = new Map(scenario.contenders.map((contender) => [contender.id, contender]))
  return {
    scenario,
    skipped: sent.skipped,
    goals: sent.goals,
    seconds: sent.seconds,
    contenders: sent.contenders.map((result) => ({...result, contender: byId.get(result.contender)!})),
  }
}

function toChildResult(result: ScenarioResult): ChildResult {
  return {
    scenario: result.scenario.id,
    skipped: result.skipped,
    seconds: result.seconds,
    goals: result.goals,
    contenders: result.contenders.map(({contender, ...rest}) => ({...rest, contender: contender.id})),
  }
}

function allScenarios(options: BenchOptions): Scenario[] {
  return [
    ...poolScenarios(options),
    ...queueThroughputScenarios(options),
    ...queueMemoryScenarios(options),
    ...breakerRetryScenarios(options),
    ...cliStartupScenarios(options),
    ...inspectScenarios(options),
    ...simulateScenarios(options),
    ...doctorScenarios(options),
  ]
}

function select(scenarios: Scenario[], only: string[]): Scenario[] {
  if (only.length === 0) return scenarios
  const known = new Set(scenarios.flatMap((s) => [s.id, s.group]))
  const unknown = only.filter((name) => !known.has(name))
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${[...known].join(', ')})`)
  return scenarios.filter((s) => only.includes(s.id) || only.includes(s.group))
}

function duration(seconds: number): string {
  return seconds < 60 ? `${seconds.toFixed(0)} s` : `${Math.floor(seconds / 60)} min ${(seconds % 60).toFixed(0)} s`
}

function report(results: ScenarioResult[], args: Args, seconds: number): string {
  const m = machine()
  const kind = args.quick ? ' **quick run (smoke test, not a result)**' : ''
  const only = args.only.length > 0 ? `, only ${args.only.join(', ')}` : ''
  return [
    `_Generated by \`npm run bench\`${kind}${only} on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${duration(seconds)}._`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB RAM, ${m.platform}`,
    `- Node ${m.node}, run with \`--expose-gc\``,
    `- Libraries: ${LIBRARIES.map((name) => `${name} ${libVersion(name)}`).join(', ')}`,
    '',
    '#### Goals',
    '',
    renderGoals(results),
    '',
    '#### Scenarios',
    '',
    ...results.map((result, i) => renderScenario(result, i + 1)),
  ].join('\n')
}

function writeReadme(section: string): void {
  const block = `${START}\n${section}\n${END}`
  const text = existsSync(README) ? readFileSync(README, 'utf8') : `# poolctl benchmarks\n\n## Results\n\n${START}\n${END}\n`
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  const next = start !== -1 && end > start ? text.slice(0, start) + block + text.slice(end + END.length) : `${text.trimEnd()}\n\n## Results\n\n${block}\n`
  writeFileSync(README, next)
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const scenarios = select(allScenarios(args), args.only)
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`)
  }

  const started = performance.now()
  const results: ScenarioResult[] = []
  if (args.child) {
    for (const scenario of scenarios) results.push(await runScenario(scenario, log))
    console.log(JSON.stringify(results.map(toChildResult)))
    return
  }

  for (const scenario of scenarios) results.push(runInChild(scenario, args))
  const seconds = (performance.now() - started) / 1000
  const text = report(results, args, seconds)
  console.log(`\n${text}`)
  if (args.write) {
    writeReadme(text)
    log(`results written to ${README}`)
  }

  const broken = results.some((r) => r.contenders.some((c) => c.error !== undefined))
  process.exitCode = broken ? 1 : 0
}

if (globalThis.gc === undefined) {
  // Heap numbers need a GC on demand: re-run this script with --expose-gc instead of failing.
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  process.exitCode = child.status ?? 1
} else {
  await main().catch((error: unknown) => {
    // Usage errors are reported plainly; anything else keeps its stack.
    process.stderr.write(`bench: ${error instanceof Error && /^(unknown|--only)/.test(error.message) ? error.message : String((error as Error)?.stack ?? error)}\n`)
    process.exitCode = 2
  })
}
