import {randomBytes} from 'node:crypto'
import {constants as fsConstants} from 'node:fs'
import {access, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {basename, dirname, extname, join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

import {scrubSecrets} from '../cli/redact.js'
import {ErrorCode, CliError} from '../errors.js'

/**
 * Reads a project's knexfile the way the knex CLI does (knex 3, bin/cli.js
 * `openKnexfile` + `resolveEnvironmentConfig`):
 * - the module's default export (ESM) or `module.exports` (CJS) is the config;
 *   a truthy `.default` on it is unwrapped once more, as knex does;
 * - a function (sync or async) is called with no arguments;
 * - the environment is `--env`, else `NODE_ENV`, else `development`; a config
 *   keyed by environment is indexed with it, a single config is used as is.
 *
 * Unlike knex, a missing environment is an error (knex silently uses the whole
 * object and fails later with a confusing message).
 *
 * TypeScript knexfiles (`.ts`, `.mts`, `.cts`): a plain `import()` is tried first
 * (it works when a TS loader such as tsx is registered); on Node 20 without one,
 * the file is transpiled with the `typescript` package (the project's own, else
 * poolctl's) into a temporary `.mjs`/`.cjs` next to it, imported, and deleted.
 * Only the knexfile itself is transpiled: a .ts knexfile that imports other .ts
 * files needs a loader (`NODE_OPTIONS="--import tsx"`).
 */

export const KNEXFILE_EXTENSIONS = ['.js', '.cjs', '.mjs', '.ts', '.mts', '.cts'] as const
const TYPESCRIPT_EXTENSIONS = new Set(['.cts', '.mts', '.ts'])
/** Client names knex maps to its PostgreSQL dialect (knex/lib/dialects/index.js). */
export const POSTGRES_CLIENTS = ['pg', 'postgres', 'postgresql', 'pgnative'] as const

export interface KnexConfig {
  [key: string]: unknown
  acquireConnectionTimeout?: unknown
  client?: unknown
  connection?: unknown
  pool?: unknown
}

export interface LoadedKnexfile {
  /** Absolute path. */
  readonly path: string
  /** The environment that was asked for. */
  readonly environment: string
  /** True when the file holds a config per environment, false for a single config. */
  readonly keyedByEnvironment: boolean
  /** Environment names found in the file (empty for a single config). */
  readonly environments: readonly string[]
  readonly config: KnexConfig
}

export interface LoadKnexfileOptions {
  /** `--env`; falls back to NODE_ENV, then `development`. */
  env?: string
  environ?: NodeJS.ProcessEnv
  cwd?: string
}

export function knexEnvironmentName(env: string | undefined, environ: NodeJS.ProcessEnv = process.env): string {
  return env || environ.NODE_ENV || 'development'
}

export async function loadKnexfile(file: string, options: LoadKnexfileOptions = {}): Promise<LoadedKnexfile> {
  const environment = knexEnvironmentName(options.env, options.environ ?? process.env)
  const {path, exported: all} = await importKnexfileConfig(file, options.cwd)
  const selected = all[environment]
  if (isPlainConfig(selected)) {
    const environments = Object.keys(all).filter((key) => isPlainConfig(all[key]))
    return {config: selected, environment, environments, keyedByEnvironment: true, path}
  }
  if (looksLikeSingleConfig(all)) {
    return {config: all, environment, environments: [], keyedByEnvironment: false, path}
  }
  const environments = Object.keys(all).filter((key) => isPlainConfig(all[key]))
  throw new CliError(
    ErrorCode.KNEXFILE_NO_ENV,
    `knexfile ${path} has no "${environment}" environment` +
      (environments.length > 0 ? ` (it has: ${environments.join(', ')}); pass --env` : ''),
  )
}

/** What a knexfile exports, resolved as knex does (default export, `.default`, function), without choosing an environment. */
export async function importKnexfileConfig(file: string, cwd = process.cwd()): Promise<{path: string; exported: Record<string, unknown>}> {
  const path = resolve(cwd, file)
  const extension = extname(path)
  if (!(KNEXFILE_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new CliError(
      ErrorCode.KNEXFILE_FAILED,
      `cannot load knexfile ${path}: expected one of ${KNEXFILE_EXTENSIONS.join(', ')}, got \`${extension || '(none)'}\``,
    )
  }
  try {
    const stats = await stat(path)
    if (!stats.isFile()) throw new Error('not a file')
  } catch {
    throw new CliError(ErrorCode.KNEXFILE_NOT_FOUND, `knexfile not found: ${path}`)
  }

  let exported: unknown
  try {
    exported = await unwrapExport(await importKnexfile(path))
  } catch (error) {
    if (error instanceof CliError) throw error
    throw new CliError(ErrorCode.KNEXFILE_FAILED, `could not load knexfile ${path}: ${describe(error)}`, {cause: error})
  }
  if (exported === null || typeof exported !== 'object') {
    throw new CliError(
      ErrorCode.KNEXFILE_FAILED,
      `knexfile ${path} does not export a configuration object (got ${exported === null ? 'null' : typeof exported})`,
    )
  }
  return {exported: exported as Record<string, unknown>, path}
}

/** Every environment's config of a knexfile: keyed configs by name, a single config under `*`. */
export async function loadKnexfileEnvironments(file: string, cwd?: string): Promise<{path: string; keyedByEnvironment: boolean; configs: Record<string, KnexConfig>}> {
  const {exported, path} = await importKnexfileConfig(file, cwd)
  if (looksLikeSingleConfig(exported)) return {configs: {'*': exported}, keyedByEnvironment: false, path}
  const configs = Object.fromEntries(Object.entries(exported).filter(([, value]) => isPlainConfig(value))) as Record<string, KnexConfig>
  return {configs, keyedByEnvironment: true, path}
}

/** Throws KNEXFILE_UNSUPPORTED_CLIENT unless the config uses knex's PostgreSQL dialect. */
export function assertPostgresClient(loaded: Pick<LoadedKnexfile, 'config' | 'environment' | 'path'>): void {
  const {client} = loaded.config
  if (typeof client === 'string' && (POSTGRES_CLIENTS as readonly string[]).includes(client)) return
  // A custom client class built on knex's PG dialect.
  if (typeof client === 'function' && (client as {prototype?: {dialect?: unknown}}).prototype?.dialect === 'postgresql') return
  const shown = typeof client === 'string' ? `"${client}"` : client === undefined ? 'no client' : `a ${typeof client}`
  throw new CliError(
    ErrorCode.KNEXFILE_UNSUPPORTED_CLIENT,
    `knexfile ${loaded.path} (${loaded.environment}) uses ${shown}; poolctl supports only PostgreSQL clients (${POSTGRES_CLIENTS.join(', ')})`,
  )
}

/**
 * The `connection` of a knex config, with a connection function (knex's
 * "connection provider", sync or async) called once. Returns a URL string or
 * a connection object.
 */
export async function resolveKnexConnection(
  loaded: Pick<LoadedKnexfile, 'config' | 'environment' | 'path'>,
): Promise<Record<string, unknown> | string> {
  let connection = loaded.config.connection
  if (typeof connection === 'function') {
    try {
      connection = await (connection as () => unknown)()
    } catch (error) {
      throw new CliError(
        ErrorCode.KNEXFILE_FAILED,
        `the connection function in knexfile ${loaded.path} (${loaded.environment}) failed: ${describe(error)}`,
        {cause: error},
      )
    }
  }
  if (typeof connection === 'string' && connection.length > 0) return connection
  if (connection !== null && typeof connection === 'object') {
    // knex's provider may return an expirationChecker; it is not a pg option.
    const {expirationChecker: _unused, ...rest} = connection as Record<string, unknown>
    return rest
  }
  throw new CliError(
    ErrorCode.KNEXFILE_NO_CONNECTION,
    `knexfile ${loaded.path} (${loaded.environment}) has no usable \`connection\` (got ${connection === undefined ? 'nothing' : typeof connection})`,
  )
}

export interface KnexPoolSettings {
  min: number
  max: number
  acquireTimeoutMillis: number
  createTimeoutMillis: number
  idleTimeoutMillis: number
  reapIntervalMillis: number
  createRetryIntervalMillis: number
  destroyTimeoutMillis: number
  /** Which values the knexfile set; the rest are knex/tarn defaults. */
  fromKnexfile: ReadonlyArray<keyof Omit<KnexPoolSettings, 'fromKnexfile'>>
}

/**
 * knex's own defaults: `min: 2, max: 10` (Client#poolDefaults), acquire timeout
 * = the smaller of `acquireConnectionTimeout` and `pool.acquireTimeoutMillis`,
 * 60 s when neither is set (Client#getPoolSettings); the rest are tarn's
 * (`opt.x || default`, so 0 means the default there too).
 */
export const KNEX_POOL_DEFAULTS = {
  acquireTimeoutMillis: 60_000,
  createRetryIntervalMillis: 200,
  createTimeoutMillis: 30_000,
  destroyTimeoutMillis: 5000,
  idleTimeoutMillis: 30_000,
  max: 10,
  min: 2,
  reapIntervalMillis: 1000,
} as const

/** The pool settings knex would use for this config. Throws KNEXFILE_FAILED on values tarn would reject. */
export function readKnexPoolConfig(config: KnexConfig, path = 'knexfile'): KnexPoolSettings {
  const pool = config.pool === undefined || config.pool === null ? {} : config.pool
  if (typeof pool !== 'object') {
    throw new CliError(ErrorCode.KNEXFILE_FAILED, `Expected \`pool\` in ${path} to be an object, got ${typeof pool}`)
  }
  const raw = pool as Record<string, unknown>
  const fromKnexfile: Array<keyof Omit<KnexPoolSettings, 'fromKnexfile'>> = []
  const read = (key: keyof typeof KNEX_POOL_DEFAULTS, {zeroMeansDefault}: {zeroMeansDefault: boolean}): number => {
    const value = raw[key]
    if (value === undefined) return KNEX_POOL_DEFAULTS[key]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new CliError(
        ErrorCode.KNEXFILE_FAILED,
        `Expected \`pool.${key}\` in ${path} to be a whole number >= 0, got \`${String(value)}\` (${typeof value})`,
      )
    }
    fromKnexfile.push(key)
    return zeroMeansDefault && value === 0 ? KNEX_POOL_DEFAULTS[key] : value
  }
  const min = read('min', {zeroMeansDefault: false})
  const max = read('max', {zeroMeansDefault: false})
  if (max < 1 || min > max) {
    throw new CliError(
      ErrorCode.KNEXFILE_FAILED,
      `Expected \`pool.min\` <= \`pool.max\` and \`pool.max\` >= 1 in ${path}, got min ${min}, max ${max}`,
    )
  }
  const acquireCandidates = [config.acquireConnectionTimeout, raw.acquireTimeoutMillis].filter(
    (value): value is number => typeof value === 'number',
  )
  if (raw.acquireTimeoutMillis !== undefined) read('acquireTimeoutMillis', {zeroMeansDefault: false})
  else if (config.acquireConnectionTimeout !== undefined) fromKnexfile.push('acquireTimeoutMillis')
  const acquireTimeoutMillis =
    acquireCandidates.length > 0 ? Math.min(...acquireCandidates) : KNEX_POOL_DEFAULTS.acquireTimeoutMillis
  return {
    acquireTimeoutMillis,
    createRetryIntervalMillis: read('createRetryIntervalMillis', {zeroMeansDefault: true}),
    createTimeoutMillis: read('createTimeoutMillis', {zeroMeansDefault: true}),
    destroyTimeoutMillis: read('destroyTimeoutMillis', {zeroMeansDefault: true}),
    fromKnexfile,
    idleTimeoutMillis: read('idleTimeoutMillis', {zeroMeansDefault: true}),
    max,
    min,
    reapIntervalMillis: read('reapIntervalMillis', {zeroMeansDefault: true}),
  }
}

function isPlainConfig(value: unknown): value is KnexConfig {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function looksLikeSingleConfig(value: Record<string, unknown>): boolean {
  return 'client' in value || 'connection' in value
}

async function unwrapExport(namespace: unknown): Promise<unknown> {
  // `import()` wraps CommonJS `module.exports` in `default`; ESM puts the
  // default export there. A module with only named exports is used as is.
  let config = (namespace as {default?: unknown}).default ?? namespace
  // knex: `if (config && config.default) config = config.default` (also
  // unwraps TypeScript's CommonJS output of `export default`).
  if (config && (config as {default?: unknown}).default) config = (config as {default: unknown}).default
  if (typeof config === 'function') config = await (config as () => unknown)()
  return config
}

async function importKnexfile(path: string): Promise<unknown> {
  if (!TYPESCRIPT_EXTENSIONS.has(extname(path))) return import(pathToFileURL(path).href)
  try {
    return await import(pathToFileURL(path).href)
  } catch (error) {
    if ((error as {code?: unknown}).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error
  }
  return importTranspiled(path)
}

interface TypeScriptApi {
  ModuleKind: {CommonJS: number; ESNext: number}
  ScriptTarget: {ES2022: number}
  transpileModule(
    input: string,
    options: {compilerOptions: Record<string, unknown>; fileName?: string; reportDiagnostics?: boolean},
  ): {outputText: string}
}

async function loadTypeScript(knexfilePath: string): Promise<TypeScriptApi> {
  for (const base of [knexfilePath, import.meta.url]) {
    try {
      const resolved = createRequire(base).resolve('typescript')
      const module = (await import(pathToFileURL(resolved).href)) as {default?: TypeScriptApi} & TypeScriptApi
      return module.default ?? module
    } catch {
      // try the next location
    }
  }
  throw new CliError(
    ErrorCode.KNEXFILE_FAILED,
    `cannot load TypeScript knexfile ${knexfilePath}: the \`typescript\` package is not installed in the project ` +
      '(install it, or run poolctl with a TypeScript loader: NODE_OPTIONS="--import tsx")',
  )
}

/** CommonJS-style TypeScript, e.g. the template of `knex init -x ts` (`import type` + `module.exports =`). */
function looksLikeCommonJs(source: string, extension: string): boolean {
  if (extension === '.cts') return true
  if (extension === '.mts') return false
  const assignsExports = /\bmodule\.exports\b|(?<![.\w$])exports\.[A-Za-z_$][\w$]*\s*=/.test(source)
  const hasEsmExport = /^\s*export\s/m.test(source)
  return assignsExports && !hasEsmExport
}

async function importTranspiled(path: string): Promise<unknown> {
  const ts = await loadTypeScript(path)
  const extension = extname(path)
  const source = await readFile(path, 'utf8')
  const commonJs = looksLikeCommonJs(source, extension)
  const {outputText} = ts.transpileModule(source, {
    compilerOptions: {
      esModuleInterop: true,
      inlineSourceMap: false,
      module: commonJs ? ts.ModuleKind.CommonJS : ts.ModuleKind.ESNext,
      sourceMap: false,
      target: ts.ScriptTarget.ES2022,
    },
    fileName: path,
  })
  const name = `.${basename(path, extension)}.poolctl-${process.pid}-${randomBytes(4).toString('hex')}.${commonJs ? 'cjs' : 'mjs'}`
  // Next to the knexfile so that its relative imports and node_modules resolve;
  // 0600 because a knexfile may hold credentials.
  let target = join(dirname(path), name)
  try {
    await access(dirname(path), fsConstants.W_OK)
  } catch {
    target = join(tmpdir(), name)
  }
  await writeFile(target, outputText, {flag: 'wx', mode: 0o600})
  try {
    return await import(pathToFileURL(target).href)
  } finally {
    await rm(target, {force: true})
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return scrubSecrets(message.split('\n')[0] ?? message)
}
