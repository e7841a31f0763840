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

/** Run the CLI to its end while polling pg_stat_activity: the result and the most sessions seen at once. */
async function runWatchingSessions(url: string, args: string[], timeoutMs: number): Promise<{result: Awaited<ReturnType<typeof runCli>>; seenMax: number}> {
  const running = runCli(args, {timeoutMs})
  let seenMax = 0
  let done = false
  void running.finally(() => (done = true))
  while (!done) {
    seenMax = Math.max(seenMax, await simulateSessions(url))
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return {result: await running, seenMax}
}

/** Poll until no poolctl session is left (or `withinMs` passed); how long that took. */
async function sessionsGone(url: string, withinMs: number): Promise<{left: number; tookMs: number}> {
  const started = Date.now()
  let left = await simulateSessions(url)
  while (left > 0 && Date.now() - started < withinMs) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    left = await simulateSessions(url)
  }
  return {left, tookMs: Date.now() - started}
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
    const {result, seenMax} = await runWatchingSessions(url, args, 60_000)
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
    run.child.kill('SIGINT')
    const {left, tookMs} = await sessionsGone(url, 5000)
    assert.equal(left, 0)
    assert.ok(tookMs <= 2000, `sessions gone after ${tookMs} ms`)
    assert.equal(await run.exited, 130)
    assert.match(run.output(), /stopped early/)
  })

  it('SIGINT during long statements (--query): they are cancelled, not left running on the server', async () => {
    // The test server has no client_connection_check_interval: without a cancel request these backends
    // would run pg_sleep(60) to its end after poolctl closed their sockets.
    const run = spawnUntil(['simulate', '--url', url, '--connections', '3', '--rate', '20', '--duration', '1m', '--query', 'select pg_sleep(60)'], /\[1\.\d+s\/60\.0s\]/)
    await run.matched
    assert.equal(await simulateSessions(url), 3, 'three statements running')
    run.child.kill('SIGINT')
    const {left, tookMs} = await sessionsGone(url, 5000)
    assert.equal(left, 0)
    assert.ok(tookMs <= 2000, `sessions gone after ${tookMs} ms`)
    assert.equal(await run.exited, 130)
  })

  it('--task-timeout cancels the statement of each timed-out task', async () => {
    const result = await runCli(
      ['simulate', '--url', url, '--connections', '2', '--rate', '4', '--duration', '2s', '--task-timeout', '300ms', '--query', 'select pg_sleep(30)', '--max-connections', '100', '--json'],
      {timeoutMs: 60_000},
    )
    assert.equal(result.code, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.ok(report.totals.timedOut > 0 && report.totals.completed === 0)
    const {left, tookMs} = await sessionsGone(url, 5000)
    assert.equal(left, 0)
    assert.ok(tookMs <= 2000, `sessions gone ${tookMs} ms after the run`)
  })

  it('compare in database mode: each run holds at most its own --connections on the server, same load', async () => {
    const args = ['simulate', '--url', url, '--connections', '2,5', '--rate', '200', '--duration', '2s', '--service-time', '25ms', '--queue-size', '30', '--max-connections', '100', '--json']
    const {result, seenMax} = await runWatchingSessions(url, args, 90_000)
    assert.equal(result.code, 0, result.stderr)
    const output = JSON.parse(result.stdout)
    assert.deepEqual(output.compare, {field: 'connections', values: ['2', '5']})
    const [two, five] = output.runs
    assert.ok(two.maxInUse <= 2 && five.maxInUse <= 5 && five.maxInUse > 2, `max in use ${two.maxInUse}, ${five.maxInUse}`)
    assert.ok(seenMax > 2 && seenMax <= 5, `sessions seen on the server: ${seenMax}`)
    assert.equal(two.totals.submitted, five.totals.submitted, 'the same seeded arrivals')
    // 200/s against 2 × 25 ms (80/s): the small pool sheds load the larger one (200/s) absorbs.
    assert.ok(two.totals.rejected > five.totals.rejected)
    assert.equal(await simulateSessions(url), 0)
  })

  it('--metrics-port through the CLI: the live run in Prometheus text while it runs', async () => {
    const run = spawnUntil(
      ['simulate', '--url', url, '--connections', '3', '--rate', '40', '--duration', '1m', '--service-time', '50ms', '--metrics-port', '0'],
      /Metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)[\s\S]*\[1\.\d+s\/60\.0s\]/,
    )
    const [, endpoint] = await run.matched
    try {
      const response = await fetch(endpoint)
      assert.equal(response.status, 200)
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/)
      const text = await response.text()
      assert.match(text, /^poolctl_simulate_pool_connections\{state="max"\} 3$/m)
      const completed = /^poolctl_simulate_tasks\{outcome="completed"\} (\d+)$/m.exec(text)
      assert.ok(completed !== null && Number(completed[1]) > 0, 'tasks completed so far are counted')
    } finally {
      run.child.kill('SIGINT')
    }
    assert.equal(await run.exited, 130)
    await assert.rejects(fetch(endpoint), 'the endpoint closes with the run')
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
