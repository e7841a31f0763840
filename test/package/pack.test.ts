import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {after, describe, it} from 'node:test'

const root = resolve(import.meta.dirname, '../../..')
const work = mkdtempSync(join(tmpdir(), 'poolctl-pack-'))
after(() => rmSync(work, {force: true, recursive: true}))

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, npm_config_loglevel: 'error'}})
}

describe('the published package', () => {
  it('npm pack + install: a plain Node ESM script imports the core from "poolctl" and the adapter from "poolctl/pg"; the installed CLI runs init and doctor', () => {
    const tarball = npm(['pack', '--silent', '--pack-destination', work], root).trim().split('\n').pop()!
    const app = join(work, 'app')
    execFileSync('mkdir', ['-p', app])
    writeFileSync(join(app, 'package.json'), JSON.stringify({name: 'consumer', private: true, type: 'module'}))
    // Dependencies come from the npm cache that `npm ci` filled; optional ones (Postgres binaries) are not needed here.
    npm(['install', '--prefer-offline', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund', join(work, tarball)], app)
    writeFileSync(
      join(app, 'main.mjs'),
      `import {ConnectionPool, QueueBroker, CircuitBreaker, retry} from 'poolctl'
import {createPgPool} from 'poolctl/pg'
let n = 0
const pool = new ConnectionPool({max: 2, factory: {create: async () => ({id: ++n}), destroy() {}}})
const broker = new QueueBroker({maxActiveTasks: 2, maxQueueSize: 10})
const breaker = new CircuitBreaker()
const sum = await broker.enqueue(() => retry(() => breaker.execute(() => pool.withResource(async (r) => r.id + 41))))
await broker.end()
await pool.end()
console.log(JSON.stringify({sum, createPgPool: typeof createPgPool, stats: pool.stats().destroyed}))
`,
    )
    const output = execFileSync(process.execPath, ['main.mjs'], {cwd: app, encoding: 'utf8'})
    assert.deepEqual(JSON.parse(output), {sum: 42, createPgPool: 'function', stats: 1})

    // The installed CLI finds its templates (init) and its parser (doctor: typescript is a run-time dependency).
    const cli = join(app, 'node_modules', 'poolctl', 'bin', 'run.js')
    const env = {...process.env, CI: 'true'}
    execFileSync(process.execPath, [cli, 'init', '--dir', app, '--only', 'ci,vscode', '--yes'], {cwd: app, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe']})
    assert.match(readFileSync(join(app, '.vscode', 'tasks.json'), 'utf8'), /\$eslint-compact/)
    assert.match(readFileSync(join(app, '.github', 'workflows', 'poolctl.yml'), 'utf8'), /image: postgres:17/)
    writeFileSync(join(app, 'worker.mjs'), "import pg from 'pg'\nexport const pool = new pg.Pool({max: 2})\n")
    const doctor = spawnSync(process.execPath, [cli, 'doctor', '--format', 'gcc', '--rule', 'missing-acquire-timeout'], {cwd: app, encoding: 'utf8', env})
    assert.equal(doctor.status, 1, doctor.stderr)
    assert.match(doctor.stdout, /^worker\.mjs:2:21: error: .*\[missing-acquire-timeout\]$/m)
  })

  it('ships the CLI entry, the manifest and the compiled code, but not tests or sources', () => {
    const listing = JSON.parse(npm(['pack', '--dry-run', '--json'], root)) as {files: {path: string}[]}[]
    const paths = listing[0].files.map((file) => file.path)
    for (const expected of ['bin/run.js', 'oclif.manifest.json', 'dist/src/index.js', 'dist/src/core/pool.js', 'dist/src/pg/index.js', 'dist/commands/init.js', 'dist/commands/doctor.js', 'templates/ci/workflow.yml', 'templates/monitoring/alerts.yml']) {
      assert.ok(paths.includes(expected), `${expected} is packed`)
    }

    assert.ok(!paths.some((path) => path.startsWith('dist/test/') || path.startsWith('src/') || path.startsWith('test/')), 'no tests or TS sources')
  })
})
