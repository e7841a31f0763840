/**
 * The data every part of `poolctl doctor` shares: rules return findings (data), the runner turns them
 * into diagnostics (with file, severity and position), reporters only format diagnostics.
 */
import type ts from 'typescript'

import type {StaticObject} from './static-value.js'

export type Severity = 'error' | 'warning' | 'info'
/** A severity as the config file may set it. */
export type SeveritySetting = Severity | 'off'

/** What a rule reports: where (a node of the file it checks) and what. */
export interface Finding {
  node: ts.Node
  message: string
}

/** A finding placed in a file, with its severity: what reporters print. Lines and columns are 1-based. */
export interface Diagnostic {
  ruleId: string
  severity: Severity
  message: string
  /** Absolute path. */
  file: string
  /** Relative to the project root (the git work tree, else the working directory), with `/`. */
  path: string
  line: number
  column: number
  endLine: number
  endColumn: number
}

/** Where a pool (or a client) is built in source code. */
export interface PoolSite {
  kind: 'pg-pool' | 'pg-client' | 'knex'
  /** The `new Pool(...)` / `knex(...)` expression. */
  node: ts.NewExpression | ts.CallExpression
  /** The first argument when it is an object literal (evaluated statically); empty for `new Pool()` without options. */
  config: StaticObject | undefined
}

/** One environment of a knexfile, evaluated as data. */
export interface KnexEnvironment {
  name: string
  /** The environment's key in the knexfile (or the exported object for a single config). */
  anchor: ts.Node
  config: StaticObject
}

/** A parsed source file and the facts collected in the one walk over its tree. */
export interface SourceFileFacts {
  file: string
  path: string
  source: ts.SourceFile
  /** Every call expression, in source order. */
  calls: ts.CallExpression[]
  /** Pools and clients built here. */
  poolSites: PoolSite[]
  /** Set when this file is a knexfile whose configuration could be read statically. */
  knexEnvironments: KnexEnvironment[] | undefined
  /** tests, test set-up (`__tests__`, `*.test.*`, `*.spec.*`, `test/`, global set-up files). */
  isTest: boolean
  /** start-up code: `server`, `index`, `main`, `app`, `start`, `bootstrap` files. */
  isStartup: boolean
}

/** What the whole run knows besides the files: flags and config. */
export interface RunContext {
  /** Declared concurrency per knexfile environment (the `*` key applies to every deployed environment). */
  concurrency: Readonly<Record<string, number>>
  instances: number
  /** The server's usable connection slots (from --url), if known. */
  usableSlots: number | undefined
  /** Where the server's slots came from, for messages. */
  usableSlotsSource: string | undefined
  /** Project-relative paths of the modules that own the shared pool (config `sharedPool`). */
  sharedPool: readonly string[]
}

/** One doctor rule: id = file name in src/doctor/rules = doc slug in docs/rules. */
export interface Rule {
  id: string
  defaultSeverity: Severity
  /** One sentence, used by SARIF `shortDescription` and `--help`-like listings. */
  summary: string
  /** Checks one file. */
  checkFile?(file: SourceFileFacts, context: RunContext): Finding[]
  /** Checks facts across files (run once after every file was parsed); findings point into those files. */
  checkProject?(files: readonly SourceFileFacts[], context: RunContext): Array<Finding & {file: SourceFileFacts}>
}
