/** `poolctl init` through the real CLI on fixture projects: what it writes, that it parses, idempotence, safety. */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {chmod, copyFile, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import ts from 'typescript'
import {parse as parseYaml} from 'yaml'

import {BIN, cliEnv, runCli} from '../support/cli.js'
import {createFixture, type FixtureSpec, JS_CJS, JS_ESM, TS_CJS, TS_ESM} from './support.js'

interface InitJson {
  created: string[]
  skipped: string[]
  conflicts: string[]
  overwritten: string[]
  dryRun: boolean
  project: {esm: boolean; typescript: boolean; testRunner: string; knexfile: {file: string; environments: string[]} | null; workflows: string[]}
  sizing: {demand: number; usable: number | null; environments: Array<{environment: string; max: number}>}
  knexfileSnippet: string | null
  nextSteps: string[]
}

const dirs: string[] = []
after(async () => {
  for (const dir of dirs) await rm(dir, {force: true, recursive: true})
})

async function fixture(spec: FixtureSpec): Promise<string> {
  const dir = await createFixture(spec)
  dirs.push(dir)
  return dir
}

async function init(dir: string, ...args: string[]) {
  return runCli(['init', '--dir', dir, ...args])
}

async function initJson(dir: string, ...args: string[]): Promise<{code: number | null; report: InitJson; stderr: string}> {
  const result = await init(dir, '--json', ...args)
  return {code: result.code, report: JSON.parse(result.stdout) as InitJson, stderr: result.stderr}
}

/** Syntax errors of a JS/TS file, from the TypeScript compiler's own parser. */
function syntaxErrors(path: string, text: string): string[] {
  const output = ts.transpileModule(text, {compilerOptions: {allowJs: true, module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022}, fileName: path, reportDiagnostics: true})
  return (output.diagnostics ?? []).map((diagnostic) => `${path}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`)
}

/** Full type-check (strict) of the generated TypeScript against the real knex and prom-client types. */
function typeErrors(dir: string, files: string[], module: ts.ModuleKind): string[] {
  const program = ts.createProgram(
    files.map((file) => join(dir, file)),
    {module, moduleResolution: module === ts.ModuleKind.NodeNext ? ts.ModuleResolutionKind.NodeNext : ts.ModuleResolutionKind.Node10, esModuleInterop: true, noEmit: true, skipLibCheck: true, strict: true, target: ts.ScriptTarget.ES2022, types: ['node']},
  )
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => `${diagnostic.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`)
}

const hasPromtool = spawnSync('promtool', ['--version']).status === 0
const hasPgBouncer = spawnSync('pgbouncer', ['--version']).status === 0

describe('poolctl init on a JS/CommonJS project with a knexfile and a workflow (mocha)', () => {
  it('follows the project: CommonJS .js files, mocha set-up, knexfile left alone with a snippet, own workflow next to the existing one', async () => {
    const dir = await fixture(JS_CJS)
    const {code, report, stderr} = await initJson(dir, '--yes')
    assert.equal(code, 0, stderr)
    assert.equal(report.project.esm, false)
    assert.equal(report.project.testRunner, 'mocha')
    assert.deepEqual(report.project.knexfile?.environments, ['development', 'production'])
    assert.deepEqual(report.project.workflows, ['.github/workflows/ci.yml'])
    assert.ok(!report.created.includes('knexfile.js'), 'an existing knexfile is never rewritten')
    assert.equal(await readFile(join(dir, 'knexfile.js'), 'utf8'), JS_CJS.files!['knexfile.js'])
    assert.match(report.knexfileSnippet ?? '', /require\('\.\/db\/pool\.js'\)/)
    assert.deepEqual(report.sizing.environments.map((env) => env.environment), ['development', 'production'])
    for (const path of ['db/pool.js', 'db/metrics.js', 'test/setup/poolctl-migrate.js', '.github/workflows/poolctl.yml', '.vscode/tasks.json']) assert.ok(report.created.includes(path), path)
    const setup = await readFile(join(dir, 'test/setup/poolctl-migrate.js'), 'utf8')
    assert.match(setup, /const knex = require\('knex'\)/)
    assert.match(setup, /mochaGlobalSetup/)
    assert.match(setup, /pg_advisory_xact_lock/)
    assert.doesNotMatch(setup, /\.forceFreeMigrationsLock\(|setTimeout\(|setInterval\(|while\s*\(/)
    assert.match(await readFile(join(dir, 'db/pool.js'), 'utf8'), /module\.exports = \{applicationName, connectionFor, poolFor, poolSettings\}/)
    for (const path of report.created.filter((file) => /\.[cm]?js$/.test(file))) assert.deepEqual(syntaxErrors(path, await readFile(join(dir, path), 'utf8')), [])
    const workflow = await readFile(join(dir, '.github/workflows/poolctl.yml'), 'utf8')
    assert.match(workflow, /npm ci/)
    assert.match(workflow, /cache: npm/)
    // No `test` environment in this knexfile: NODE_ENV=test would make knex's CLI take the whole file
    // as one config ("client" missing) and the set-up throw; both use the development one, and say so.
    assert.match(workflow, /^ {6}NODE_ENV: development$/m)
    assert.match(setup, /environment = process\.env\.NODE_ENV \|\| 'development'\)/)
    assert.ok(report.nextSteps.some((step) => step.includes("knexfile.js has no test environment: CI and the test set-up use 'development'")), report.nextSteps.join('\n'))
  })

  it('environment names are the user\'s: quotes and dashes still give valid JS, and an unknown environment gets the production one\'s pool', async () => {
    const knexfile = `module.exports = {\n  "it's-dev": {client: 'pg', connection: 'postgres://x/y'},\n  'prod-eu': {client: 'pg', connection: 'postgres://x/y'},\n}\n`
    const project = await fixture({files: {'knexfile.js': knexfile}, packageJson: {name: 'quotes'}})
    const {code, report} = await initJson(project, '--only', 'pool', '--api-concurrency', '7')
    assert.equal(code, 0)
    const pool = await readFile(join(project, 'db/pool.js'), 'utf8')
    assert.deepEqual(syntaxErrors('db/pool.js', pool), [])
    assert.deepEqual(syntaxErrors('snippet.js', report.knexfileSnippet ?? ''), [])
    const {createRequire} = await import('node:module')
    const {poolFor} = createRequire(join(project, 'package.json'))('./db/pool.js') as {poolFor(environment: string): {max: number}}
    assert.equal(poolFor('prod-eu').max, 7)
    assert.equal(poolFor('staging').max, 7, 'unknown → the production-profile environment, prod-eu')
    assert.ok(poolFor("it's-dev").max <= 10)
  })

  it('human output: the sizing table, the arithmetic, "configured now", every file; a second run changes nothing', async () => {
    const dir = await fixture(JS_CJS)
    const first = await init(dir, '--yes', '--api-concurrency', '50', '--workers', '5', '--connections-per-worker', '2')
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /demand = 1 instance × 60 \+ 3 maintenance = 63 connections/)
    assert.match(first.stdout, /configured now: production pool max 10 × 1 instance = 10 connections; needed at peak: 63/)
    assert.match(first.stdout, /create\s+db\/pool\.js/)
    const before = await snapshotFiles(dir)
    const second = await init(dir, '--yes', '--api-concurrency', '50', '--workers', '5', '--connections-per-worker', '2')
    assert.equal(second.code, 0, second.stderr)
    assert.match(second.stdout, /Nothing to do: \d+ file\(s\) already up to date/)
    assert.doesNotMatch(second.stdout, /^\s+(create|conflict|overwrite)\s/m)
    assert.deepEqual(await snapshotFiles(dir), before)
  })
})

describe('poolctl init on a TypeScript/ESM project without a knexfile (vitest)', () => {
  it('writes .ts under src/, a knexfile.ts; everything type-checks strictly against knex and prom-client', async () => {
    const dir = await fixture({...TS_ESM, linkNodeModules: true})
    const {code, report, stderr} = await initJson(dir, '--yes')
    assert.equal(code, 0, stderr)
    assert.equal(report.project.typescript, true)
    assert.equal(report.project.testRunner, 'vitest')
    for (const path of ['src/db/pool.ts', 'src/db/metrics.ts', 'knexfile.ts', 'test/setup/poolctl-migrate.ts']) assert.ok(report.created.includes(path), path)
    assert.match(await readFile(join(dir, 'knexfile.ts'), 'utf8'), /from '\.\/src\/db\/pool\.js'/)
    assert.match(await readFile(join(dir, 'test/setup/poolctl-migrate.ts'), 'utf8'), /export async function setup\(\)/)
    const tsFiles = report.created.filter((file) => file.endsWith('.ts'))
    assert.deepEqual(typeErrors(dir, tsFiles, ts.ModuleKind.NodeNext), [])
  })

  it('TypeScript/CommonJS (jest): extensionless imports, a jest globalSetup default export; type-checks', async () => {
    const dir = await fixture({...TS_CJS, linkNodeModules: true})
    const {code, report, stderr} = await initJson(dir, '--only', 'pool,monitoring,tests')
    assert.equal(code, 0, stderr)
    assert.equal(report.project.testRunner, 'jest')
    assert.match(await readFile(join(dir, 'knexfile.ts'), 'utf8'), /from '\.\/db\/pool'/)
    assert.match(await readFile(join(dir, 'test/setup/poolctl-migrate.ts'), 'utf8'), /export default async function globalSetup/)
    assert.deepEqual(typeErrors(dir, report.created.filter((file) => file.endsWith('.ts')), ts.ModuleKind.CommonJS), [])
  })
})

describe('generated monitoring, CI and editor files', () => {
  let dir: string
  it('scaffold (ESM JS, node:test)', async () => {
    dir = await fixture(JS_ESM)
    const result = await init(dir, '--yes', '--max-connections', '100')
    assert.equal(result.code, 0, result.stderr)
  })

  it('alert rules: YAML with the 80 %/95 %, acquire wait, idle-in-transaction, long query and migration-lock alerts', async () => {
    const rules = parseYaml(await readFile(join(dir, 'monitoring/prometheus/poolctl-alerts.yml'), 'utf8')) as {groups: Array<{rules: Array<{alert?: string; expr: string}>}>}
    const alerts = rules.groups.flatMap((group) => group.rules).filter((rule) => rule.alert)
    const byName = Object.fromEntries(alerts.map((rule) => [rule.alert, rule.expr]))
    assert.match(byName.PostgresConnectionsHigh, />= 0\.8$/)
    assert.match(byName.PostgresConnectionsCritical, />= 0\.95$/)
    for (const name of ['KnexPoolAcquireWait', 'PostgresIdleInTransaction', 'PostgresLongRunningQuery', 'KnexMigrationLockHeldTooLong', 'PoolctlInspectConnectionsHigh']) assert.ok(byName[name], name)
    assert.match(byName.PoolctlInspectConnectionsHigh, /poolctl_connection_slots_used_ratio/)
  })

  it('alert rules pass promtool check rules', {skip: hasPromtool ? false : 'promtool not installed'}, () => {
    const result = spawnSync('promtool', ['check', 'rules', join(dir, 'monitoring/prometheus/poolctl-alerts.yml')], {encoding: 'utf8'})
    assert.equal(result.status, 0, result.stdout + result.stderr)
    assert.match(result.stdout, /SUCCESS/)
  })

  it('Grafana dashboard: what an import needs (title, uid, schemaVersion, __inputs datasource, panels with gridPos and targets)', async () => {
    const dashboard = JSON.parse(await readFile(join(dir, 'monitoring/grafana/poolctl-dashboard.json'), 'utf8'))
    assert.equal(typeof dashboard.title, 'string')
    assert.match(dashboard.uid, /^[\w-]{1,40}$/)
    assert.ok(Number.isInteger(dashboard.schemaVersion))
    assert.deepEqual(dashboard.__inputs.map((input: {name: string; type: string}) => [input.name, input.type]), [['DS_PROMETHEUS', 'datasource']])
    assert.ok(dashboard.panels.length >= 5)
    for (const panel of dashboard.panels) {
      for (const key of ['h', 'w', 'x', 'y']) assert.equal(typeof panel.gridPos[key], 'number', `${panel.title} gridPos.${key}`)
      assert.ok(panel.targets.length > 0 && panel.targets.every((target: {expr: string}) => target.expr.length > 0), panel.title)
      assert.equal(panel.datasource.uid, '${DS_PROMETHEUS}')
    }
  })

  it('postgres_exporter query: YAML, and its SQL runs on PostgreSQL with and without the knex lock table', async () => {
    const queries = parseYaml(await readFile(join(dir, 'monitoring/postgres_exporter/queries.yaml'), 'utf8')) as Record<string, {query: string; metrics: object[]}>
    assert.ok(queries.knex_migrations_lock.query.includes('knex_migrations_lock'))
    const {createTestDatabase, dropTestDatabase, withClient} = await import('../support/postgres.js')
    const url = await createTestDatabase('init_exporter')
    try {
      await withClient(url, async (client) => {
        assert.deepEqual((await client.query(queries.knex_migrations_lock.query)).rows, [{held_seconds: 0, is_locked: -1}])
        await client.query('create table knex_migrations_lock (index serial primary key, is_locked integer); insert into knex_migrations_lock (is_locked) values (1)')
        assert.deepEqual((await client.query(queries.knex_migrations_lock.query)).rows, [{held_seconds: 0, is_locked: 1}])
      })
    } finally {
      await dropTestDatabase(url)
    }
  })

  it('workflow: YAML; pinned postgres:17 health-checked service; migrate, then test, then doctor SARIF uploaded', async () => {
    const workflow = parseYaml(await readFile(join(dir, '.github/workflows/poolctl.yml'), 'utf8'))
    const job = workflow.jobs.test
    assert.equal(job.services.postgres.image, 'postgres:17')
    assert.match(job.services.postgres.options, /--health-cmd pg_isready/)
    assert.equal(job.permissions['security-events'], 'write')
    assert.equal(job.env.NODE_ENV, 'test')
    const steps = job.steps as Array<{name?: string; run?: string; uses?: string; if?: string; with?: Record<string, string>}>
    const index = (predicate: (step: (typeof steps)[number]) => boolean) => steps.findIndex(predicate)
    const migrate = index((step) => /migrate:latest/.test(step.run ?? ''))
    const test = index((step) => step.run === 'npm test')
    const doctor = index((step) => /poolctl doctor --format sarif > poolctl\.sarif/.test(step.run ?? ''))
    const upload = index((step) => /^github\/codeql-action\/upload-sarif@v\d+$/.test(step.uses ?? ''))
    assert.ok(migrate >= 0 && migrate < test && test < doctor && doctor < upload, JSON.stringify(steps))
    assert.equal(steps[upload].if, 'always()')
    assert.equal(steps[upload].with?.sarif_file, 'poolctl.sarif')
    assert.ok(!steps.some((step) => step.with?.cache), 'no npm cache without a lockfile (setup-node would fail)')
  })

  it('workflow for pnpm: pnpm set up before setup-node caches it; a version only when package.json has no packageManager', async () => {
    type Step = {uses?: string; run?: string; with?: Record<string, unknown>}
    const stepsFor = async (packageJson: Record<string, unknown>) => {
      const project = await fixture({files: {'pnpm-lock.yaml': 'lockfileVersion: 9.0\n'}, packageJson})
      assert.equal((await init(project, '--only', 'ci')).code, 0)
      return (parseYaml(await readFile(join(project, '.github/workflows/poolctl.yml'), 'utf8')).jobs.test.steps as Step[])
    }
    const unpinned = await stepsFor({name: 'p'})
    const setup = unpinned.findIndex((step) => step.uses === 'pnpm/action-setup@v4')
    const node = unpinned.findIndex((step) => step.uses?.startsWith('actions/setup-node@'))
    assert.ok(setup >= 0 && setup < node, JSON.stringify(unpinned))
    assert.deepEqual(unpinned[setup].with, {version: 10})
    assert.equal(unpinned[node].with?.cache, 'pnpm')
    assert.ok(unpinned.some((step) => step.run === 'pnpm install --frozen-lockfile'))
    const pinned = await stepsFor({name: 'p', packageManager: 'pnpm@9.15.0'})
    assert.equal(pinned.find((step) => step.uses === 'pnpm/action-setup@v4')?.with, undefined, 'action-setup fails when the two name different versions')
  })

  it('workflow: the Node version comes from the project\'s own pin when it has one; Yarn 2+ installs --immutable', async () => {
    type Step = {uses?: string; run?: string; with?: Record<string, unknown>}
    const stepsFor = async (spec: Parameters<typeof fixture>[0]) => {
      const project = await fixture(spec)
      assert.equal((await init(project, '--only', 'ci')).code, 0)
      return parseYaml(await readFile(join(project, '.github/workflows/poolctl.yml'), 'utf8')).jobs.test.steps as Step[]
    }
    const setupNode = (steps: Step[]) => steps.find((step) => step.uses?.startsWith('actions/setup-node@'))?.with
    assert.deepEqual(setupNode(await stepsFor({packageJson: {name: 'a'}})), {'node-version': 20})
    assert.deepEqual(setupNode(await stepsFor({files: {'.nvmrc': '22\n'}, packageJson: {name: 'b', engines: {node: '>=20'}}})), {'node-version-file': '.nvmrc'})
    assert.deepEqual(setupNode(await stepsFor({packageJson: {name: 'c', engines: {node: '>=22'}}})), {'node-version-file': 'package.json'})
    assert.deepEqual(setupNode(await stepsFor({files: {'.tool-versions': 'python 3.12.0\n'}, packageJson: {name: 'd'}})), {'node-version': 20}, 'no nodejs line')
    const berry = await stepsFor({files: {'.yarnrc.yml': 'nodeLinker: node-modules\n', 'yarn.lock': '__metadata:\n'}, packageJson: {name: 'e'}})
    assert.ok(berry.some((step) => step.run === 'yarn install --immutable'), JSON.stringify(berry))
    const classic = await stepsFor({files: {'yarn.lock': '# yarn lockfile v1\n'}, packageJson: {name: 'f', packageManager: 'yarn@1.22.22'}})
    assert.ok(classic.some((step) => step.run === 'yarn install --frozen-lockfile'), JSON.stringify(classic))
  })

  it('.vscode/tasks.json runs poolctl doctor with the $eslint-compact matcher', async () => {
    const tasks = JSON.parse(await readFile(join(dir, '.vscode/tasks.json'), 'utf8'))
    const doctor = tasks.tasks.find((task: {label: string}) => task.label === 'poolctl: doctor')
    assert.equal(doctor.command, 'npx poolctl doctor')
    assert.equal(doctor.problemMatcher, '$eslint-compact')
  })

  it('load scripts parse and state the pass criteria', async () => {
    for (const path of ['load/autocannon.mjs', 'load/k6.js']) {
      const text = await readFile(join(dir, path), 'utf8')
      assert.deepEqual(syntaxErrors(path, text), [])
      assert.match(text, /500/) // p99 ms
      assert.match(text, /0\.01/) // error rate
      assert.match(text, /0\.8/) // pool ratio
    }
    assert.match(await readFile(join(dir, 'load/k6.js'), 'utf8'), /'p\(99\)<=500'/)
  })

  it('both load scripts sample the pool at /metrics on the target\'s origin, whatever path TARGET_URL names', async () => {
    const k6 = await readFile(join(dir, 'load/k6.js'), 'utf8')
    const autocannon = await readFile(join(dir, 'load/autocannon.mjs'), 'utf8')
    const metricsUrl = (text: string, env: string) => {
      const lines = text.split('\n').filter((line) => /^const (target|metricsUrl) =/.test(line))
      return new Function(env, `${lines.join('\n')}\nreturn metricsUrl`)
    }
    for (const target of ['http://localhost:3000/health', 'http://localhost:3000/', 'http://localhost:3000']) {
      assert.equal(metricsUrl(k6, '__ENV')({TARGET_URL: target}), 'http://localhost:3000/metrics', `k6, ${target}`)
      assert.equal(metricsUrl(autocannon, 'process')({env: {TARGET_URL: target}}), 'http://localhost:3000/metrics', `autocannon, ${target}`)
    }
  })
})

describe('poolctl init: safety', () => {
  it('a changed file is a conflict (exit 1, not overwritten); --diff shows it; --force overwrites', async () => {
    const dir = await fixture(JS_ESM)
    assert.equal((await init(dir, '--only', 'pool,vscode')).code, 0)
    const tasks = join(dir, '.vscode/tasks.json')
    await writeFile(tasks, '{"version": "2.0.0", "tasks": []}\n')
    const conflict = await initJson(dir, '--only', 'pool,vscode')
    assert.equal(conflict.code, 1, conflict.stderr)
    assert.deepEqual(conflict.report.conflicts, ['.vscode/tasks.json'])
    assert.deepEqual(conflict.report.created, [])
    assert.equal(await readFile(tasks, 'utf8'), '{"version": "2.0.0", "tasks": []}\n')
    const diff = await init(dir, '--only', 'vscode', '--diff')
    assert.equal(diff.code, 1)
    assert.match(diff.stdout, /conflict\s+\.vscode\/tasks\.json/)
    assert.match(diff.stdout, /^--- a\/\.vscode\/tasks\.json$/m)
    assert.match(diff.stdout, /^-\{"version": "2\.0\.0", "tasks": \[\]\}$/m)
    assert.match(diff.stdout, /^\+ {6}"command": "npx poolctl doctor",$/m)
    const forced = await initJson(dir, '--only', 'pool,vscode', '--force')
    assert.equal(forced.code, 0, forced.stderr)
    assert.deepEqual(forced.report.overwritten, ['.vscode/tasks.json'])
    assert.ok(forced.report.skipped.includes('db/pool.js'))
    assert.match(await readFile(tasks, 'utf8'), /eslint-compact/)
  })

  it('--dry-run writes nothing and lists every action', async () => {
    const dir = await fixture(JS_ESM)
    const before = await snapshotFiles(dir)
    const result = await init(dir, '--yes', '--dry-run')
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /dry run: nothing written/)
    assert.match(result.stdout, /create\s+knexfile\.js/)
    assert.match(result.stdout, /create\s+\.github\/workflows\/poolctl\.yml/)
    assert.deepEqual(await snapshotFiles(dir), before)
    const json = await initJson(dir, '--yes', '--dry-run')
    assert.equal(json.report.dryRun, true)
    assert.ok(json.report.created.length >= 10)
    assert.deepEqual(await snapshotFiles(dir), before)
    assert.equal((await initJson(dir, '--only', 'vscode')).report.dryRun, false)
  })

  it('demand beyond the server: says so, recommends and (with --yes) scaffolds PgBouncer; the userlist is 0600', async () => {
    const dir = await fixture(JS_ESM)
    const result = await init(dir, '--yes', '--api-concurrency', '50', '--workers', '5', '--connections-per-worker', '2', '--max-connections', '50')
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /63 > 47: does NOT fit/)
    assert.match(result.stdout, /PgBouncer recommended/)
    assert.equal((await stat(join(dir, 'deploy/pgbouncer/userlist.txt'))).mode & 0o777, 0o600)
    const ini = await readFile(join(dir, 'deploy/pgbouncer/pgbouncer.ini'), 'utf8')
    assert.match(ini, /^pool_mode = transaction$/m)
    assert.match(ini, /^default_pool_size = 44$/m)
    assert.match(await readFile(join(dir, 'db/pool.js'), 'utf8'), /production: \{min: 0, max: 44,/)
  })

  it('pgbouncer.ini: PgBouncer itself loads it (auth_file absolute, every setting known)', {skip: hasPgBouncer ? false : 'pgbouncer not installed'}, async () => {
    const dir = await fixture(JS_ESM)
    assert.equal((await init(dir, '--only', 'pgbouncer', '--max-connections', '100')).code, 0)
    const ini = await readFile(join(dir, 'deploy/pgbouncer/pgbouncer.ini'), 'utf8')
    assert.match(ini, /^auth_file = \/etc\/pgbouncer\/userlist\.txt$/m)
    assert.doesNotMatch(ini, /^admin_users/m)
    // The same file where it can start here: the userlist where we put it, a unix socket only, in a dir
    // the (possibly unprivileged, -u nobody) pgbouncer can use.
    const run = await mkdtemp(join(tmpdir(), 'poolctl-pgbouncer-'))
    dirs.push(run)
    await chmod(run, 0o777)
    await copyFile(join(dir, 'deploy/pgbouncer/userlist.txt'), join(run, 'userlist.txt'))
    await chmod(join(run, 'userlist.txt'), 0o644)
    const local = ini
      .replace(/^auth_file = .*$/m, `auth_file = ${join(run, 'userlist.txt')}`)
      .replace(/^listen_addr = .*$/m, `listen_addr =\nunix_socket_dir = ${run}`)
    await writeFile(join(run, 'pgbouncer.ini'), local, {mode: 0o644})
    const log = await startPgBouncer(join(run, 'pgbouncer.ini'))
    assert.match(log, /process up/, log)
    assert.doesNotMatch(log, /ERROR|FATAL|WARNING/, log)
  })

  it('--only pool --dry-run is the sizing calculator alone', async () => {
    const dir = await fixture(JS_ESM)
    const {code, report} = await initJson(dir, '--only', 'pool', '--dry-run', '--api-concurrency', '50', '--workers', '5', '--connections-per-worker', '2')
    assert.equal(code, 0)
    assert.equal(report.sizing.demand, 63)
    assert.deepEqual(report.created.sort(), ['db/pool.js', 'knexfile.js'])
  })
})

describe('poolctl init --url', () => {
  it('reads max_connections and both reserves from the server; the password is never printed', async () => {
    const {testDatabaseUrl, withClient} = await import('../support/postgres.js')
    const url = await testDatabaseUrl()
    const expected = await withClient(url, async (client) => {
      const {rows} = await client.query<{usable: number}>(
        "select current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - coalesce(current_setting('reserved_connections', true), '0')::int as usable",
      )
      return rows[0].usable
    })
    const dir = await fixture(JS_ESM)
    const result = await init(dir, '--only', 'pool', '--dry-run', '--json', '--url', url)
    assert.equal(result.code, 0, result.stderr)
    const report = JSON.parse(result.stdout) as InitJson
    assert.equal(report.sizing.usable, expected)
    const password = new URL(url).password
    if (password.length >= 4) assert.ok(!(result.stdout + result.stderr).includes(password))
    const text = await init(dir, '--only', 'pool', '--dry-run', '--url', url)
    assert.match(text.stdout, new RegExp(`− \\d+ reserved_connections = ${expected}\n`))
    assert.doesNotMatch(text.stdout, /assumed/)
  })

  it('a server that cannot be reached: exit 3, one line', async () => {
    const dir = await fixture(JS_ESM)
    const result = await init(dir, '--yes', '--url', 'postgres://app:s3cret-pw@127.0.0.1:1/app', '--connect-timeout', '2')
    assert.equal(result.code, 3)
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
    assert.ok(!result.stderr.includes('s3cret-pw'))
    assert.deepEqual(Object.keys(await snapshotFiles(dir)), ['package.json'])
  })
})

describe('poolctl init: bad input is one line and a documented exit code', () => {
  const oneLine = (stderr: string) => stderr.trim().split('\n').filter(Boolean)

  it('--dir that does not exist, or has no package.json: 64', async () => {
    const missing = await runCli(['init', '--dir', '/nonexistent/poolctl', '--yes'])
    assert.equal(missing.code, 64)
    assert.deepEqual(oneLine(missing.stderr), ['poolctl: --dir /nonexistent/poolctl does not exist or is not a directory'])
    const empty = await fixture({packageJson: {}})
    await rm(join(empty, 'package.json'))
    const notProject = await initJson(empty, '--yes')
    assert.equal(notProject.code, 64)
    assert.equal((notProject.report as unknown as {error: {code: string}}).error.code, 'NOT_A_PROJECT')
  })

  it('a knexfile that throws: 3, KNEXFILE_FAILED, nothing written', async () => {
    const dir = await fixture({files: {'knexfile.js': "throw new Error('boom from the knexfile')\n"}, packageJson: {name: 'x'}})
    const result = await init(dir, '--yes')
    assert.equal(result.code, 3)
    assert.equal(oneLine(result.stderr).length, 1, result.stderr)
    assert.match(result.stderr, /could not load knexfile .*boom from the knexfile/)
    assert.deepEqual(await snapshotFiles(dir), {'knexfile.js': "throw new Error('boom from the knexfile')\n", 'package.json': '{\n  "name": "x"\n}\n'})
  })

  it('contradictory sizing: 64, BAD_SIZING, nothing written', async () => {
    const dir = await fixture(JS_ESM)
    const result = await init(dir, '--yes', '--workers', '30', '--connections-per-worker', '4', '--max-connections', '100')
    assert.equal(result.code, 64)
    assert.deepEqual(oneLine(result.stderr), ['poolctl: --workers need 1 × 30 × 4 = 120 connections (+ 3 maintenance), more than the 97 usable slots the server has'])
    assert.deepEqual(Object.keys(await snapshotFiles(dir)), ['package.json'])
  })

  it('no terminal and neither --yes nor --only: 64; an unknown part: 64; --max-connections with --url: 64', async () => {
    const dir = await fixture(JS_ESM)
    const noTty = await init(dir)
    assert.equal(noTty.code, 64)
    assert.match(noTty.stderr, /^poolctl: not a terminal: pass --yes/)
    const bogus = await init(dir, '--only', 'pool,bogus')
    assert.equal(bogus.code, 64)
    assert.match(bogus.stderr, /Expected --only to list parts from pool, monitoring/)
    const both = await init(dir, '--yes', '--max-connections', '100', '--url', 'postgres://x@127.0.0.1:1/x')
    assert.equal(both.code, 64)
    assert.deepEqual(Object.keys(await snapshotFiles(dir)), ['package.json'])
  })

  it('a directory where a file goes, or a file where a directory goes: a conflict even with --force, the user\'s left alone', async () => {
    const dir = await fixture({files: {'.vscode/tasks.json/keep.txt': 'mine\n', load: 'a file, not a directory\n'}, packageJson: {name: 'x'}})
    const result = await init(dir, '--only', 'vscode,load', '--force')
    assert.equal(result.code, 1, result.stderr)
    assert.equal(result.stderr, '')
    assert.match(result.stdout, /conflict {2}\.vscode\/tasks\.json {2}\(a directory is in the way: not written, even with --force\)/)
    assert.match(result.stdout, /conflict {2}load\/k6\.js {2}\(a file is in the way of its directory: not written, even with --force\)/)
    assert.deepEqual(await snapshotFiles(dir), {'.vscode/tasks.json/keep.txt': 'mine\n', load: 'a file, not a directory\n', 'package.json': '{\n  "name": "x"\n}\n'})
  })

  // root writes anywhere: run the CLI as nobody then (setpriv), else as ourselves.
  const asRoot = process.getuid?.() === 0
  const canDropRoot = asRoot && spawnSync('setpriv', ['--version']).status === 0
  it('a read-only project: one PERMISSION_DENIED line (exit 3), before anything is written', {skip: asRoot && !canDropRoot ? 'running as root without setpriv' : false}, async () => {
    const dir = await fixture(JS_ESM)
    await chmod(join(dir, 'package.json'), 0o644)
    await chmod(dir, 0o555)
    const command = [BIN, 'init', '--dir', dir, '--yes', '--json']
    const result = canDropRoot
      ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...command], {encoding: 'utf8', env: cliEnv()})
      : spawnSync(process.execPath, command, {encoding: 'utf8', env: cliEnv()})
    await chmod(dir, 0o755)
    assert.equal(result.status, 3, result.stderr)
    const {error} = JSON.parse(result.stdout) as {error: {code: string; message: string}}
    assert.equal(error.code, 'PERMISSION_DENIED')
    assert.match(error.message, /^cannot write db\/pool\.js \(.* is not writable\): permission denied \(EACCES\); nothing was written$/)
    assert.deepEqual(Object.keys(await snapshotFiles(dir)), ['package.json'])
  })
})


/** Start pgbouncer on `ini` until it is up (or exits), then stop it; its log. */
async function startPgBouncer(ini: string): Promise<string> {
  const args = process.getuid?.() === 0 ? ['-u', 'nobody', ini] : [ini]
  const child = spawn('pgbouncer', args, {stdio: ['ignore', 'pipe', 'pipe']})
  let log = ''
  return new Promise((resolvePromise) => {
    const collect = (chunk: Buffer) => {
      log += chunk.toString()
      if (/process up/.test(log)) child.kill('SIGTERM')
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('close', () => resolvePromise(log))
  })
}

/** Every file under dir (but node_modules) with its content. */
async function snapshotFiles(dir: string): Promise<Record<string, string>> {
  const {readdir} = await import('node:fs/promises')
  const out: Record<string, string> = {}
  const walk = async (sub: string) => {
    for (const entry of await readdir(join(dir, sub), {withFileTypes: true})) {
      const path = sub ? `${sub}/${entry.name}` : entry.name
      if (entry.name === 'node_modules') continue
      if (entry.isDirectory()) await walk(path)
      else out[path] = await readFile(join(dir, path), 'utf8')
    }
  }
  await walk('')
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)))
}
