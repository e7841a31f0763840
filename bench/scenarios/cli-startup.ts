/**
 * Scenario 6: CLI start-up, the wall time of `--version` in a fresh node process, poolctl vs knex's CLI
 * (both are what a user types first; both load a CLI framework and exit). spawnSync, so the time covers
 * process start, module loading and exit, as the user sees it.
 */
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {labelFor, projectRoot} from '../env.js'
import {type BenchOptions, type Contender, type Scenario, milliseconds} from '../harness.js'

const POOLCTL = join(projectRoot, 'bin', 'run.js')
const KNEX = join(projectRoot, 'node_modules', 'knex', 'bin', 'cli.js')
const MANIFEST = join(projectRoot, 'oclif.manifest.json')

interface Run {
  ms: number
  status: number | null
  stdout: string
  stderr: string
}

function runVersion(script: string): Run {
  const started = performance.now()
  const child = spawnSync(process.execPath, [script, '--version'], {cwd: projectRoot, encoding: 'utf8'})
  const ms = performance.now() - started
  if (child.error !== undefined) throw child.error
  return {ms, status: child.status, stdout: child.stdout, stderr: child.stderr}
}

function timed(script: string, expect: RegExp): () => Promise<number> {
  return async () => {
    const run = runVersion(script)
    if (run.status !== 0 || !expect.test(run.stdout)) {
      throw new Error(`\`${script} --version\` exited ${run.status}: ${(run.stderr || run.stdout).trim().split('\n')[0]}`)
    }

    return run.ms
  }
}

/** Why poolctl cannot be timed yet, if it cannot. */
function notBuilt(): string | undefined {
  if (!existsSync(POOLCTL)) return 'not built: bin/run.js is missing'
  if (!existsSync(MANIFEST)) return 'not built: oclif.manifest.json is missing (run `npm run build`, which runs `oclif manifest`)'
  const probe = runVersion(POOLCTL)
  if (probe.status !== 0 || !/poolctl/.test(probe.stdout)) {
    const why = (probe.stderr || probe.stdout).trim().split('\n')[0] ?? ''
    return `not built: \`node bin/run.js --version\` exited ${probe.status}${why ? ` (${why})` : ''}`
  }

  return undefined
}

export function cliStartupScenarios({quick}: BenchOptions): Scenario[] {
  const contenders: Contender[] = [
    {id: 'poolctl', label: 'poolctl `node bin/run.js --version`', measure: timed(POOLCTL, /poolctl/)},
    {id: 'knex', label: `${labelFor('knex')} \`node node_modules/knex/bin/cli.js --version\``, measure: timed(KNEX, /Knex/i)},
  ]
  return [
    {
      id: 'cli-startup',
      group: 'cli-startup',
      title: 'CLI start-up: `--version` wall time',
      method: 'Each run is a fresh `node <cli> --version` through spawnSync, timed from spawn to exit.',
      unit: milliseconds,
      rounds: quick ? 3 : 9,
      subject: 'poolctl',
      contenders,
      goals: [{kind: 'faster', vs: 'knex', factor: 1, label: 'poolctl --version ≤ knex --version (wall time)'}],
      skip: notBuilt,
    },
  ]
}
