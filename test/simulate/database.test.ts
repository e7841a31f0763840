/**
 * Database mode against real PostgreSQL: the test server (--url) and the embedded default. What is
 * checked comes from the server (pg_stat_activity) and the file system, not from poolctl's own report.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {dirname} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {BIN, PROJECT_ROOT, cliEnv, runCli} from '../support/cli.js'
import {createTestDatabase, dropTestDatabase, withClient} from '../support/postgres.js'
import {ESCAPE} from './support.js'

/** Sessions of `poolctl simulate` in the test database. */
async function simulateSessions(url: string): Promise<number> {
  const database = decodeURIComponent(new URL(url).pathname.slice(1))
  return withClient(url, async (client) => {
    const {rows} = await client.query<{n: number}>(
      "select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'poolctl-simulate'",
      [database],
    )
    return rows[0].n
  })
}

/** Spawn the CLI and resolve when a stderr line matches `pattern`. */
function spawnUntil(args: string[], pattern: RegExp): {child: ChildProcess; matched: Promise<RegExpMatchArray>; exited: Promise<number | null>; output: () => string} {
  const child = spawn(process.execPath, [BIN, ...args], {cwd: PROJECT_ROOT, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  let stdout = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  const matched = new Promise<RegExpMatchArray>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
      const match = pattern.exec(stderr)
      if (match) resolve(match)
    })
    child.on('exit', () => reject(new Error(`exited before ${pattern}: ${stderr}`)))
  })
  matched.catch(() => undefined)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {child, matched, exited, output: () => stdout + stderr}
}

describe('poolctl simulate against PostgreSQL', () => {
  let url: string
  before(async () => {
    url = await createTestDatabase('simulate')
  })
  after(async () => {
    await dropTestDatabase(url)
  })

  it('in use never exceeds --connections (seen in pg_stat_activity); rejections once the queue is full', async () => {
    const args = ['simulate', '--url', url, '--connections', '3', '--queue-size', '20', '--rate', '150', '--duration', '3s', '--service-time', '40ms', '--max-connections', '100', '--json']
    const running = runCli(args, {timeoutMs: 60_000})
    let seenMax = 0
    let done = false
    void running.finally(() => (done = true))
    while (!done) {
      seenMax = Math.max(seenMax, await simulateSessions(url))
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const result = await running
    assert.equal(result.code, 0, result.stderr)
    assert.ok(seenMax > 0, 'the poll saw the run')
    assert.ok(seenMax <= 3, `at most 3 sessions, saw ${seenMax}`)
    const report = JSON.parse(result.stdout)
    assert.ok(report.maxInUse <= 3)
    // 150/s against 3 × 40 ms (75/s): the queue fills, and only then does backpressure reject.
    assert.ok(report.totals.rejected > 0)
    assert.equal(report.maxQueueDepth, 20)
    assert.equal(await simulateSessions(url), 0, 'every connection closed at the end')
  })

  it('SIGINT mid-run: exit 130 and no poolctl session left within 2 s', async () => {
    const run = spawnUntil(['simulate', '--url', url, '--connections', '4', '--rate', '50', '--duration', '1m', '--service-time', '200ms'], /\[1\.\d+s\/60\.0s\]/)
    await run.matched
    assert.ok((await simulateSessions(url)) > 0)
    const signalledAt = Date.now()
    run.child.kill('SIGINT')
    let left = await simulateSessions(url)
    while (left > 0 && Date.now() - signalledAt < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      left = await simulateSessions(url)
    }
    const tookMs = Date.now() - signalledAt
    assert.equal(left, 0)
    assert.ok(tookMs <= 2000, `sessions gone after ${tookMs} ms`)
    assert.equal(await run.exited, 130)
    assert.match(run.output(), /stopped early/)
  })

  it('no connection given: the embedded server, named on screen, plain progress lines; SIGINT removes its data dir', async () => {
    const run = spawnUntil(['simulate', '--duration', '1m', '--rate', '20'], /data dir ([^)]+)\)[\s\S]*\[1\.\d+s\/60\.0s\].*\n/)
    const match = await run.matched
    const dataDir = match[1]
    assert.ok(existsSync(dataDir))
    run.child.kill('SIGINT')
    assert.equal(await run.exited, 130)
    assert.equal(existsSync(dirname(dataDir)), false, 'the temp dir is removed')
    assert.match(run.output(), /starting a temporary embedded PostgreSQL 17/)
    assert.match(run.output(), /Embedded PostgreSQL stopped and removed/)
    assert.doesNotMatch(run.output(), ESCAPE)
  })
})
