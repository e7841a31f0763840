import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
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
  it('npm pack + install: a plain Node ESM script imports the core from "poolctl" and the adapter from "poolctl/pg"', () => {
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
  })

  it('ships the CLI entry, the manifest and the compiled code, but not tests or sources', () => {
    const listing = JSON.parse(npm(['pack', '--dry-run', '--json'], root)) as {files: {path: string}[]}[]
    const paths = listing[0].files.map((file) => file.path)
    for (const expected of ['bin/run.js', 'oclif.manifest.json', 'dist/src/index.js', 'dist/src/core/pool.js', 'dist/src/pg/index.js']) {
      assert.ok(paths.includes(expected), `${expected} is packed`)
    }

    assert.ok(!paths.some((path) => path.startsWith('dist/test/') || path.startsWith('src/') || path.startsWith('test/')), 'no tests or TS sources')
  })
})
