/**
 * doctor's configuration file: `.poolctlrc.json` (`{"doctor": {...}}`), else the `"poolctl": {"doctor":
 * {...}}` key of package.json, in the working directory or the nearest parent up to the project root.
 *
 *   {"doctor": {"rules": {"query-in-loop": "off", "missing-idle-timeout": "error"},
 *               "concurrency": {"production": 50}, "instances": 3, "sharedPool": ["src/db.ts"]}}
 *
 * Unknown keys and bad values are rejected eagerly, naming the file, the key and the bad value.
 */
import {readFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'

import {CliError, ErrorCode} from '../errors.js'
import {RULE_IDS} from './rules/index.js'
import type {SeveritySetting} from './types.js'

export interface DoctorConfig {
  /** Where it was read from, if anywhere. */
  source: string | undefined
  rules: Record<string, SeveritySetting>
  /** Per knexfile environment; '*' = every deployed environment. */
  concurrency: Record<string, number>
  instances: number | undefined
  sharedPool: string[]
}

const KEYS = ['rules', 'concurrency', 'instances', 'sharedPool']
const SEVERITIES = ['error', 'warning', 'info', 'off']

export const EMPTY_CONFIG: DoctorConfig = {concurrency: {}, instances: undefined, rules: {}, sharedPool: [], source: undefined}

export function loadDoctorConfig(cwd: string, root: string): DoctorConfig {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const rc = readJson(join(dir, '.poolctlrc.json'))
    if (rc !== undefined) return parseDoctorConfig(rc.doctor ?? {}, join(dir, '.poolctlrc.json'), root)
    const pkg = readJson(join(dir, 'package.json'))
    const fromPackage = (pkg?.poolctl as Record<string, unknown> | undefined)?.doctor
    if (fromPackage !== undefined) return parseDoctorConfig(fromPackage, `${join(dir, 'package.json')} ("poolctl"."doctor")`, root, dir)
    if (dir === root || dirname(dir) === dir || relative(root, dir).startsWith('..')) return EMPTY_CONFIG
  }
}

export function parseDoctorConfig(raw: unknown, source: string, root: string, base = dirname(source)): DoctorConfig {
  const bad = (message: string): CliError => new CliError(ErrorCode.USAGE, `${source}: ${message}`)
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`expected "doctor" to be an object, got ${JSON.stringify(raw)}`)
  const object = raw as Record<string, unknown>
  const unknown = Object.keys(object).filter((key) => !KEYS.includes(key))
  if (unknown.length > 0) throw bad(`unknown key ${unknown.map((key) => `"${key}"`).join(', ')} (known: ${KEYS.join(', ')})`)
  const config: DoctorConfig = {concurrency: {}, instances: undefined, rules: {}, sharedPool: [], source}
  if (object.rules !== undefined) {
    if (typeof object.rules !== 'object' || object.rules === null) throw bad(`expected "rules" to be an object of rule id → severity`)
    for (const [id, severity] of Object.entries(object.rules)) {
      if (!RULE_IDS.includes(id)) throw bad(`unknown rule "${id}" (known: ${RULE_IDS.join(', ')})`)
      if (typeof severity !== 'string' || !SEVERITIES.includes(severity)) throw bad(`expected rules."${id}" to be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(severity)}`)
      config.rules[id] = severity as SeveritySetting
    }
  }
  if (object.concurrency !== undefined) {
    const entries = typeof object.concurrency === 'number' ? [['*', object.concurrency]] : typeof object.concurrency === 'object' && object.concurrency !== null ? Object.entries(object.concurrency) : undefined
    if (entries === undefined) throw bad(`expected "concurrency" to be a number or an object of knexfile environment → number, got ${JSON.stringify(object.concurrency)}`)
    for (const [environment, value] of entries) config.concurrency[environment as string] = wholeNumber(value, `concurrency${environment === '*' ? '' : `.${environment}`}`, bad)
  }
  if (object.instances !== undefined) config.instances = wholeNumber(object.instances, 'instances', bad)
  if (object.sharedPool !== undefined) {
    const list = typeof object.sharedPool === 'string' ? [object.sharedPool] : object.sharedPool
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) throw bad(`expected "sharedPool" to be a path or a list of paths, got ${JSON.stringify(object.sharedPool)}`)
    config.sharedPool = list.map((item: string) => relative(root, resolve(base, item)).split('\\').join('/'))
  }
  return config
}

function wholeNumber(value: unknown, key: string, bad: (message: string) => CliError): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw bad(`expected "${key}" to be a whole number from 1 up, got ${JSON.stringify(value)}`)
  return value
}

function readJson(path: string): Record<string, unknown> | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch (error) {
    throw new CliError(ErrorCode.USAGE, `${path}: not valid JSON (${(error as Error).message})`)
  }
}
