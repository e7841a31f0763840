/**
 * The doctor run: collect files, parse each once, run the per-file rules, then the cross-file ones,
 * drop suppressed findings, apply severities. Everything returns data; reporters/ formats it.
 */
import {readFileSync} from 'node:fs'
import {relative, sep} from 'node:path'

import ts from 'typescript'

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
  /** For stderr, not findings: files with syntax errors (checked as far as the parser recovered), unreadable files, nothing to check. */
  warnings: string[]
}

export function runDoctor(options: DoctorOptions): DoctorResult {
  const root = projectRoot(options.cwd)
  const config = loadDoctorConfig(options.cwd, root)
  const paths = options.paths.length > 0 ? options.paths : ['.']
  const files = collectFiles(paths, options.cwd, root)
  const warnings: string[] = []
  const sources = []
  for (const file of files) {
    try {
      sources.push({file, text: readFileSync(file, 'utf8')})
    } catch (error) {
      warnings.push(`${relative(options.cwd, file)}: not checked, cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
    }
  }
  if (files.length === 0) warnings.push(`no JavaScript or TypeScript files to check in ${paths.join(', ')} (.gitignore'd files, node_modules and build output are skipped)`)
  const result = analyseSources(sources, {...options, config, root})
  return {...result, warnings: [...warnings, ...result.warnings]}
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
  const warnings: string[] = []
  for (const {file, text} of sources) {
    const path = relative(options.root, file).split(sep).join('/')
    let facts: SourceFileFacts
    const found: Array<[ActiveRule, Finding]> = []
    try {
      facts = parseSource(file, path, text)
      for (const entry of active) {
        for (const finding of entry.rule.checkFile?.(facts, context) ?? []) found.push([entry, finding])
      }
    } catch (error) {
      // The parser (and our walks) recurse per nesting level: ~1,000 nested brackets overflow the stack.
      // One generated file must not stop the run; anything else is a bug and fails it.
      if (!(error instanceof RangeError)) throw error
      warnings.push(`${path}: not checked, nested too deeply to parse (${error.message})`)
      continue
    }
    parsed.push(facts)
    const syntaxError = firstSyntaxError(facts.source)
    if (syntaxError !== undefined) warnings.push(`${path}:${syntaxError.position}: syntax error (${syntaxError.message}); checked only what the parser could recover`)
    suppressions.set(facts, readSuppressions(facts.source))
    for (const [entry, finding] of found) add(facts, entry, finding)
  }
  for (const entry of active) {
    for (const finding of entry.rule.checkProject?.(parsed, context) ?? []) add(finding.file, entry, finding)
  }
  const kept = options.quiet ? diagnostics.filter((diagnostic) => diagnostic.severity === 'error') : diagnostics
  kept.sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line || a.column - b.column || a.ruleId.localeCompare(b.ruleId))
  const counts: Record<Severity, number> = {error: 0, info: 0, warning: 0}
  for (const diagnostic of kept) counts[diagnostic.severity]++
  return {configSource: config.source, counts, diagnostics: kept, filesScanned: sources.length, root: options.root, rules: active, warnings}
}

/** The parser's first error: createSourceFile keeps them on the file, not in its public type. */
function firstSyntaxError(source: ts.SourceFile): {position: string; message: string} | undefined {
  const [first] = (source as ts.SourceFile & {parseDiagnostics?: readonly ts.DiagnosticWithLocation[]}).parseDiagnostics ?? []
  if (first === undefined) return undefined
  const {character, line} = source.getLineAndCharacterOfPosition(first.start)
  return {message: ts.flattenDiagnosticMessageText(first.messageText, ' ').replace(/\.$/, ''), position: `${line + 1}:${character + 1}`}
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
