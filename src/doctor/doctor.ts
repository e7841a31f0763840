/**
 * The doctor run: collect files, parse each once, run the per-file rules, then the cross-file ones,
 * drop suppressed findings, apply severities. Everything returns data; reporters/ formats it.
 */
import {readFileSync} from 'node:fs'
import {relative, sep} from 'node:path'

import {CliError, ErrorCode} from '../errors.js'
import {type DoctorConfig, EMPTY_CONFIG, loadDoctorConfig} from './config.js'
import {parseSource, positionOf} from './parse.js'
import {RULE_IDS, RULES} from './rules/index.js'
import {isSuppressed, readSuppressions, type Suppressions} from './suppression.js'
import type {Diagnostic, Finding, Rule, RunContext, Severity, SourceFileFacts} from './types.js'
import {collectFiles, projectRoot} from './walk.js'

export interface DoctorOptions {
  paths: readonly string[]
  cwd: string
  /** Run only these rules (`--rule`). */
  rules?: readonly string[]
  /** Errors only (`--quiet`). */
  quiet?: boolean
  /** `--instances`, over the config's. */
  instances?: number
  /** `--concurrency`, over the config's (applies to every deployed knexfile environment). */
  concurrency?: number
  usableSlots?: {slots: number; source: string}
}

export interface ActiveRule {
  rule: Rule
  severity: Severity
}

export interface DoctorResult {
  root: string
  configSource: string | undefined
  filesScanned: number
  rules: ActiveRule[]
  diagnostics: Diagnostic[]
  counts: Record<Severity, number>
}

export function runDoctor(options: DoctorOptions): DoctorResult {
  const root = projectRoot(options.cwd)
  const config = loadDoctorConfig(options.cwd, root)
  const files = collectFiles(options.paths.length > 0 ? options.paths : ['.'], options.cwd, root)
  const sources = files.map((file) => ({file, text: readFileSync(file, 'utf8')}))
  return analyseSources(sources, {...options, config, root})
}

/** The analysis on sources already in memory (also what the rule tests call). */
export function analyseSources(
  sources: ReadonlyArray<{file: string; text: string}>,
  options: Omit<DoctorOptions, 'paths' | 'cwd'> & {root: string; config?: DoctorConfig},
): DoctorResult {
  const config = options.config ?? EMPTY_CONFIG
  const active = activeRules(config, options.rules)
  const context: RunContext = {
    concurrency: options.concurrency === undefined ? config.concurrency : {'*': options.concurrency},
    instances: options.instances ?? config.instances ?? 1,
    sharedPool: config.sharedPool,
    usableSlots: options.usableSlots?.slots,
    usableSlotsSource: options.usableSlots?.source,
  }
  const parsed: SourceFileFacts[] = []
  const suppressions = new Map<SourceFileFacts, Suppressions | undefined>()
  const diagnostics: Diagnostic[] = []
  const add = (file: SourceFileFacts, {rule, severity}: ActiveRule, finding: Finding): void => {
    const position = positionOf(finding.node)
    if (isSuppressed(suppressions.get(file), rule.id, position.line)) return
    diagnostics.push({file: file.file, message: finding.message, path: file.path, ruleId: rule.id, severity, ...position})
  }
  for (const {file, text} of sources) {
    const facts = parseSource(file, relative(options.root, file).split(sep).join('/'), text)
    parsed.push(facts)
    suppressions.set(facts, readSuppressions(facts.source))
    for (const entry of active) {
      for (const finding of entry.rule.checkFile?.(facts, context) ?? []) add(facts, entry, finding)
    }
  }
  for (const entry of active) {
    for (const finding of entry.rule.checkProject?.(parsed, context) ?? []) add(finding.file, entry, finding)
  }
  const kept = options.quiet ? diagnostics.filter((diagnostic) => diagnostic.severity === 'error') : diagnostics
  kept.sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line || a.column - b.column || a.ruleId.localeCompare(b.ruleId))
  const counts: Record<Severity, number> = {error: 0, info: 0, warning: 0}
  for (const diagnostic of kept) counts[diagnostic.severity]++
  return {configSource: config.source, counts, diagnostics: kept, filesScanned: sources.length, root: options.root, rules: active}
}

function activeRules(config: DoctorConfig, only: readonly string[] | undefined): ActiveRule[] {
  const unknown = (only ?? []).filter((id) => !RULE_IDS.includes(id))
  if (unknown.length > 0) throw new CliError(ErrorCode.USAGE, `unknown rule ${unknown.join(', ')} (known: ${RULE_IDS.join(', ')})`)
  const active: ActiveRule[] = []
  for (const rule of RULES) {
    const setting = config.rules[rule.id]
    if (only !== undefined && only.length > 0) {
      if (only.includes(rule.id)) active.push({rule, severity: setting === undefined || setting === 'off' ? rule.defaultSeverity : setting})
    } else if (setting !== 'off') {
      active.push({rule, severity: setting ?? rule.defaultSeverity})
    }
  }
  return active
}
