import {posix} from 'node:path'

import type {SizingResult} from '../sizing/sizing.js'
import type {Project} from './detect.js'
import {renderTemplateFile, type TemplateValues} from './template.js'

export const PARTS = ['pool', 'monitoring', 'ci', 'tests', 'load', 'vscode', 'pgbouncer'] as const
export type Part = (typeof PARTS)[number]

export const PART_DESCRIPTIONS: Record<Part, string> = {
  ci: 'GitHub Actions: Postgres 17 service, migrations once, tests, doctor SARIF upload',
  load: 'autocannon and k6 load scripts with pass criteria (p99, error rate, pool ≤ 80 %)',
  monitoring: 'Prometheus alert rules, postgres_exporter queries, Grafana dashboard, prom-client pool metrics',
  pgbouncer: 'pgbouncer.ini and a userlist template (0600), for demand beyond the server',
  pool: 'pool settings per environment (sized from your concurrency) and the knexfile wiring',
  tests: 'test set-up that runs migrations once across parallel workers (pg_advisory_lock)',
  vscode: '.vscode/tasks.json: poolctl doctor with a problem matcher',
}

export interface GeneratedFile {
  part: Part
  /** Relative to the project, with forward slashes. */
  path: string
  content: string
  /** Written 0600. */
  secret: boolean
}

/** Thresholds the monitoring and load templates share (the same as poolctl inspect's defaults). */
export const THRESHOLDS = {
  acquireWaitSeconds: 0.5,
  critRatio: 0.95,
  errorRate: 0.01,
  idleInTransactionSeconds: 30,
  longQuerySeconds: 60,
  migrationLockSeconds: 900,
  p99Millis: 500,
  poolRatio: 0.8,
  warnRatio: 0.8,
} as const

/** The advisory lock key of the generated test set-up ("poolctl-migrate"); any fixed bigint works. */
export const MIGRATION_LOCK_KEY = '7240011348329531'

/** Where each generated file goes, following the project's language and module system. */
export function layout(project: Project) {
  const {esm, sourceDir, testDir, testRunner, typescript} = project
  const sourceExtension = typescript ? 'ts' : 'js'
  const at = (...parts: string[]) => posix.normalize(posix.join(...parts))
  // node:test and vitest load the set-up as an ES module (top-level await, vitest's own loader).
  const setupNeedsEsm = testRunner === 'node:test' || testRunner === 'vitest'
  const setupExtension = typescript ? (esm || !setupNeedsEsm ? 'ts' : 'mts') : esm || !setupNeedsEsm ? 'js' : 'mjs'
  return {
    alerts: 'monitoring/prometheus/poolctl-alerts.yml',
    autocannon: 'load/autocannon.mjs',
    dashboard: 'monitoring/grafana/poolctl-dashboard.json',
    exporterQueries: 'monitoring/postgres_exporter/queries.yaml',
    k6: 'load/k6.js',
    knexfile: project.knexfile?.file ?? `knexfile.${sourceExtension}`,
    metrics: at(sourceDir, 'db', `metrics.${sourceExtension}`),
    pgbouncerIni: 'deploy/pgbouncer/pgbouncer.ini',
    pool: at(sourceDir, 'db', `pool.${sourceExtension}`),
    setup: at(testDir, 'setup', `poolctl-migrate.${setupExtension}`),
    setupEsmSyntax: typescript || esm || setupNeedsEsm,
    sourceEsmSyntax: typescript || esm,
    tasks: '.vscode/tasks.json',
    userlist: 'deploy/pgbouncer/userlist.txt',
    workflow: '.github/workflows/poolctl.yml',
  }
}

/**
 * How `from` imports `to`: relative, with the extension Node resolves at run time. TypeScript sources
 * name the compiled `.js` (NodeNext, tsx); CommonJS TypeScript drops it (ts-node, ts-jest).
 */
export function importSpecifier(from: string, to: string, project: Project): string {
  let target = posix.relative(posix.dirname(from), to)
  if (!target.startsWith('.')) target = `./${target}`
  if (!/\.[cm]?ts$/.test(to)) return target
  if (!project.esm && from.endsWith('.ts')) return target.replace(/\.[cm]?ts$/, '')
  return target.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs').replace(/\.cts$/, '.cjs')
}

export async function renderFiles(project: Project, sizing: SizingResult, parts: readonly Part[]): Promise<{files: GeneratedFile[]; snippet: string | null}> {
  const paths = layout(project)
  const usable = sizing.usable
  const production = sizing.environments.find((environment) => environment.profile === 'production') ?? sizing.environments[0]
  const testEnvironment = ciEnvironment(sizing)
  const common: TemplateValues = {
    ...THRESHOLDS,
    acquireTimeoutMillis: production.acquireTimeoutMillis,
    alertsPath: paths.alerts,
    autocannonPath: paths.autocannon,
    connections: Math.max(1, sizing.perInstanceDemand),
    critPercent: THRESHOLDS.critRatio * 100,
    databaseName: project.service.replaceAll(/[^\w]/g, '_'),
    databaseUser: 'app',
    errorRatePercent: THRESHOLDS.errorRate * 100,
    esmSyntax: paths.sourceEsmSyntax,
    exporterQueriesPath: paths.exporterQueries,
    k6Path: paths.k6,
    metricsModulePath: paths.metrics,
    migrationsLockTable: 'knex_migrations_lock',
    poolModulePath: paths.pool,
    poolPercent: THRESHOLDS.poolRatio * 100,
    service: project.service,
    testEnvironment,
    ts: project.typescript,
    warnPercent: THRESHOLDS.warnRatio * 100,
  }
  const render = async (part: Part, template: string, path: string, values: TemplateValues = {}, secret = false): Promise<GeneratedFile> => ({
    content: await renderTemplateFile(template, {...common, ...values}),
    part,
    path,
    secret,
  })
  const files: GeneratedFile[] = []
  let snippet: string | null = null
  const poolImportFromKnexfile = importSpecifier(paths.knexfile, paths.pool, project)
  for (const part of parts) {
    if (part === 'pool') {
      files.push(
        await render('pool', 'pool/pool.tmpl', paths.pool, {
          arithmeticComment: sizing.arithmetic.map((line) => `//   ${line}`).join('\n'),
          poolSettingsEntries: poolSettingsEntries(sizing),
          productionString: jsString(production.environment),
        }),
      )
      const knexfileValues = {
        environmentList: sizing.environments.map((environment) => jsString(environment.environment)).join(', '),
        knexfile: paths.knexfile,
        migrationsDirectory: project.knexfile?.migrationsDirectory ?? './migrations',
        poolModuleImport: poolImportFromKnexfile,
      }
      const others = sizing.environments.filter((environment) => environment !== production).map((environment) => jsString(environment.environment))
      const productionValues = {productionKey: jsKey(production.environment), productionName: production.environment, productionString: jsString(production.environment)}
      if (project.knexfile) snippet = (await render('pool', 'pool/knexfile-snippet.tmpl', paths.knexfile, {...knexfileValues, ...productionValues, otherEnvironments: others.join(', ') || 'your other environments'})).content
      else files.push(await render('pool', 'pool/knexfile.tmpl', paths.knexfile, knexfileValues))
    } else if (part === 'monitoring') {
      files.push(await render('monitoring', 'monitoring/metrics.tmpl', paths.metrics))
      files.push(await render('monitoring', 'monitoring/alerts.yml', paths.alerts))
      files.push(await render('monitoring', 'monitoring/postgres-exporter-queries.yaml', paths.exporterQueries))
      files.push(await render('monitoring', 'monitoring/dashboard.json', paths.dashboard, {dashboardTitle: `${project.service}: PostgreSQL connections (poolctl)`, dashboardUid: `poolctl-${project.service}`.slice(0, 40)}))
    } else if (part === 'ci') {
      files.push(await render('ci', 'ci/workflow.yml', paths.workflow, ciValues(project, paths.knexfile)))
    } else if (part === 'tests') {
      files.push(
        await render('tests', 'tests/migrate-once.tmpl', paths.setup, {
          esmSyntax: paths.setupEsmSyntax,
          jest: project.testRunner === 'jest',
          knexfile: paths.knexfile,
          knexfileImport: importSpecifier(paths.setup, paths.knexfile, project),
          lockKey: MIGRATION_LOCK_KEY,
          mocha: project.testRunner === 'mocha',
          nodeTest: project.testRunner === 'node:test',
          setupPath: paths.setup,
          vitest: project.testRunner === 'vitest',
        }),
      )
    } else if (part === 'load') {
      files.push(await render('load', 'load/autocannon.mjs', paths.autocannon))
      files.push(await render('load', 'load/k6.js', paths.k6))
    } else if (part === 'vscode') {
      files.push(await render('vscode', 'vscode/tasks.json', paths.tasks))
    } else if (part === 'pgbouncer') {
      const bouncer = {
        defaultPoolSize: Math.max(1, (usable ?? sizing.demand) - sizing.input.maintenance),
        demand: sizing.demand,
        maxClientConn: Math.ceil(sizing.input.instances * sizing.perInstanceDemand * 1.25),
        usableText: usable === null ? 'unknown: pass --max-connections or --url' : `${usable}`,
      }
      files.push(await render('pgbouncer', 'pgbouncer/pgbouncer.ini', paths.pgbouncerIni, bouncer))
      files.push(await render('pgbouncer', 'pgbouncer/userlist.txt', paths.userlist, {}, true))
    }
  }
  return {files, snippet}
}

/** A knexfile environment name as a JS string literal: names are the user's and may hold any character. */
function jsString(name: string): string {
  return `'${name.replaceAll(/[\\']/g, '\\$&').replaceAll('\n', '\\n').replaceAll('\r', '\\r')}'`
}

/** The same name as an object key: bare when it is an identifier. */
function jsKey(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : jsString(name)
}

function poolSettingsEntries(sizing: SizingResult): string {
  return sizing.environments
    .map(({acquireTimeoutMillis, createTimeoutMillis, environment, idleTimeoutMillis, max, min, reapIntervalMillis}) => {
      return `  ${jsKey(environment)}: {min: ${min}, max: ${max}, acquireTimeoutMillis: ${acquireTimeoutMillis}, createTimeoutMillis: ${createTimeoutMillis}, idleTimeoutMillis: ${idleTimeoutMillis}, reapIntervalMillis: ${reapIntervalMillis}},`
    })
    .join('\n')
}

/**
 * The knexfile environment CI and the test set-up use (NODE_ENV): one named like a test environment,
 * else a development one. Always `test` without a knexfile; never one the knexfile lacks, or knex's
 * CLI would fall back to the whole file as one config and fail on a missing `client`.
 */
export function ciEnvironment(sizing: SizingResult): string {
  const byProfile = (profile: string) => sizing.environments.find((environment) => environment.profile === profile)?.environment
  return byProfile('test') ?? byProfile('development') ?? sizing.environments[0].environment
}

function ciValues(project: Project, knexfile: string): TemplateValues {
  const run = {npm: 'npx', pnpm: 'pnpm exec', yarn: 'yarn'}[project.packageManager]
  const knexCli = project.typescript ? `${run} tsx node_modules/knex/bin/cli.js` : `${run} knex`
  return {
    cache: project.lockfile,
    installCommand: project.lockfile
      ? {npm: 'npm ci', pnpm: 'pnpm install --frozen-lockfile', yarn: project.yarnBerry ? 'yarn install --immutable' : 'yarn install --frozen-lockfile'}[project.packageManager]
      : `${project.packageManager} install`,
    migrateCommand: `${knexCli} migrate:latest --knexfile ${knexfile}`,
    // The project's own pin when it has one (setup-node reads these files), else the oldest maintained LTS line poolctl itself runs on.
    nodeVersion: 20,
    nodeVersionFile: project.nodeVersionFile ?? '',
    packageManager: project.packageManager,
    pnpm: project.packageManager === 'pnpm',
    pnpmPinned: project.packageManagerPinned,
    testCommand: `${project.packageManager} test`,
  }
}
