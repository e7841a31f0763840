import {readdir, readFile, stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {CliError, ErrorCode} from '../errors.js'
import {KNEXFILE_EXTENSIONS, loadKnexfileEnvironments, readKnexPoolConfig} from '../knex/knexfile.js'

export type TestRunner = 'node:test' | 'vitest' | 'jest' | 'mocha'
export type PackageManager = 'npm' | 'yarn' | 'pnpm'

export interface ExistingKnexfile {
  /** Relative to the project. */
  file: string
  environments: string[]
  /** Pool max per environment as knex would build it (knex's default 10 when unset). */
  poolMax: Record<string, number>
  migrationsDirectory: string | null
}

export interface Project {
  dir: string
  name: string
  /** application_name of the service: the package name without scope. */
  service: string
  esm: boolean
  typescript: boolean
  testRunner: TestRunner
  packageManager: PackageManager
  /** package.json names its package manager's version (`packageManager`, corepack): CI must not name another. */
  packageManagerPinned: boolean
  /** Yarn 2+ (Berry: a .yarnrc.yml, or packageManager yarn@2+), whose frozen install is `--immutable`. */
  yarnBerry: boolean
  /** package-lock.json / yarn.lock / pnpm-lock.yaml exists (CI can install frozen and cache). */
  lockfile: boolean
  /** Where the project pins its Node version, for actions/setup-node's node-version-file: .nvmrc,
   * .node-version, .tool-versions (a nodejs line) or package.json (volta.node / engines.node); null = none. */
  nodeVersionFile: string | null
  knexfile: ExistingKnexfile | null
  workflows: string[]
  /** Where generated source goes: src/ when the project has one, else the root. */
  sourceDir: string
  testDir: string
}

/** Read what init needs to know about the project in `dir`. Throws NOT_A_PROJECT (64) or KNEXFILE_* (3). */
export async function detectProject(dir: string): Promise<Project> {
  const root = resolve(dir)
  const info = await stat(root).catch(() => undefined)
  if (!info?.isDirectory()) throw new CliError(ErrorCode.NOT_A_PROJECT, `--dir ${root} does not exist or is not a directory`)
  let pkg: {
    name?: unknown
    type?: unknown
    packageManager?: unknown
    scripts?: Record<string, unknown>
    dependencies?: object
    devDependencies?: object
    engines?: {node?: unknown}
    volta?: {node?: unknown}
  }
  try {
    pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
    throw new CliError(
      ErrorCode.NOT_A_PROJECT,
      missing ? `${root} is not a Node.js project (no package.json)` : `${root}/package.json is not valid JSON: ${(error as Error).message}`,
    )
  }
  const deps = {...pkg.dependencies, ...pkg.devDependencies} as Record<string, unknown>
  const entries = new Set(await readdir(root))
  const name = typeof pkg.name === 'string' && pkg.name.length > 0 ? pkg.name : 'app'
  return {
    dir: root,
    esm: pkg.type === 'module',
    knexfile: await detectKnexfile(root, entries),
    lockfile: ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml'].some((file) => entries.has(file)),
    name,
    nodeVersionFile: await detectNodeVersionFile(root, entries, typeof pkg.volta?.node === 'string' || typeof pkg.engines?.node === 'string'),
    packageManager: entries.has('pnpm-lock.yaml') ? 'pnpm' : entries.has('yarn.lock') ? 'yarn' : 'npm',
    packageManagerPinned: typeof pkg.packageManager === 'string',
    yarnBerry: entries.has('.yarnrc.yml') || (typeof pkg.packageManager === 'string' && /^yarn@(?!1\.)/.test(pkg.packageManager)),
    service: name.replace(/^@[^/]+\//, '').replaceAll(/[^\w.-]/g, '-'),
    sourceDir: entries.has('src') ? 'src' : '.',
    testDir: entries.has('test') || !entries.has('tests') ? 'test' : 'tests',
    testRunner: detectTestRunner(typeof pkg.scripts?.test === 'string' ? pkg.scripts.test : '', deps),
    typescript: entries.has('tsconfig.json') || 'typescript' in deps,
    workflows: await listWorkflows(root),
  }
}

export function detectTestRunner(testScript: string, deps: Record<string, unknown>): TestRunner {
  for (const runner of ['vitest', 'jest', 'mocha'] as const) if (new RegExp(`\\b${runner}\\b`).test(testScript)) return runner
  if (/node\s.*--test\b/.test(testScript)) return 'node:test'
  for (const runner of ['vitest', 'jest', 'mocha'] as const) if (runner in deps) return runner
  return 'node:test'
}

async function detectKnexfile(root: string, entries: Set<string>): Promise<ExistingKnexfile | null> {
  const file = KNEXFILE_EXTENSIONS.map((extension) => `knexfile${extension}`).find((candidate) => entries.has(candidate))
  if (!file) return null
  // Loading runs the project's code; a knexfile that throws is reported (KNEXFILE_FAILED, exit 3).
  const {configs, keyedByEnvironment} = await loadKnexfileEnvironments(file, root)
  const poolMax: Record<string, number> = {}
  let migrationsDirectory: string | null = null
  for (const [environment, config] of Object.entries(configs)) {
    poolMax[environment] = readKnexPoolConfig(config, join(root, file)).max
    const directory = (config.migrations as {directory?: unknown} | undefined)?.directory
    if (migrationsDirectory === null && typeof directory === 'string') migrationsDirectory = directory
  }
  return {environments: keyedByEnvironment ? Object.keys(configs) : [], file, migrationsDirectory, poolMax}
}

async function detectNodeVersionFile(root: string, entries: Set<string>, packageJsonPins: boolean): Promise<string | null> {
  for (const file of ['.nvmrc', '.node-version']) if (entries.has(file)) return file
  if (entries.has('.tool-versions')) {
    const text = await readFile(join(root, '.tool-versions'), 'utf8').catch(() => '')
    if (/^nodejs\s+\S/m.test(text)) return '.tool-versions'
  }
  return packageJsonPins ? 'package.json' : null
}

async function listWorkflows(root: string): Promise<string[]> {
  const dir = join(root, '.github', 'workflows')
  const names = await readdir(dir).catch(() => [] as string[])
  return names.filter((name) => /\.ya?ml$/.test(name)).map((name) => `.github/workflows/${name}`).sort()
}
