/** Helpers of the doctor tests: analyse in-memory sources, copy fixture projects into temp dirs. */
import {cp, mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {parseDoctorConfig} from '../../src/doctor/config.js'
import {analyseSources, type DoctorOptions, type DoctorResult} from '../../src/doctor/doctor.js'
import type {Diagnostic} from '../../src/doctor/types.js'
import {PROJECT_ROOT} from '../support/cli.js'

export const FIXTURES = join(PROJECT_ROOT, 'test', 'doctor', 'fixtures')
export const ROOT = '/project'

export interface CheckOptions extends Omit<DoctorOptions, 'paths' | 'cwd'> {
  /** The `doctor` object of a config file. */
  config?: unknown
}

/** Run doctor over `{path: source}` (paths relative to a virtual project root). */
export function analyse(files: Record<string, string>, options: CheckOptions = {}): DoctorResult {
  const {config, ...rest} = options
  const sources = Object.entries(files).map(([path, text]) => ({file: `${ROOT}/${path}`, text}))
  return analyseSources(sources, {...rest, config: config === undefined ? undefined : parseDoctorConfig(config, `${ROOT}/.poolctlrc.json`, ROOT), root: ROOT})
}

/** `rule path:line:col` for each diagnostic of one rule (all rules when `rule` is undefined). */
export function found(files: Record<string, string>, rule: string | undefined, options: CheckOptions = {}): string[] {
  return analyse(files, rule === undefined ? options : {...options, rules: [rule]}).diagnostics.map(describe)
}

export function describe(d: Diagnostic): string {
  return `${d.ruleId} ${d.path}:${d.line}:${d.column}`
}

/** A copy of a fixture project in a temp dir, with a `.git` so that it is its own project root. */
export async function fixtureCopy(name: string, extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `poolctl-doctor-${name}-`))
  await cp(join(FIXTURES, name), dir, {recursive: true})
  await mkdir(join(dir, '.git'))
  for (const [path, text] of Object.entries(extra)) {
    await mkdir(dirname(join(dir, path)), {recursive: true})
    await writeFile(join(dir, path), text)
  }
  return dir
}
