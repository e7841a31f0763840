/** `poolctl simulate` through the real CLI, virtual mode (no database): output, JSON, errors, files. */
import assert from 'node:assert/strict'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {lines, runCli} from '../support/cli.js'
import {ESCAPE} from './support.js'

const JSON_KEYS = ['config', 'totals', 'latencyMs', 'queueWaitMs', 'serviceMs', 'throughputPerSec', 'maxQueueDepth', 'maxInUse', 'recommendations']

describe('poolctl simulate --virtual (CLI)', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'poolctl-simulate-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('--json: the stable keys, and the same seed gives the same report', async () => {
    const args = ['simulate', '--virtual', '--seed', '42', '--rate', '300', '--duration', '30s', '--json']
    const first = await runCli(args)
    assert.equal(first.code, 0, first.stderr)
    const report = JSON.parse(first.stdout)
    for (const key of JSON_KEYS) assert.ok(key in report, `missing ${key}`)
    for (const key of ['submitted', 'completed', 'rejected', 'failed', 'timedOut', 'deadLettered']) assert.equal(typeof report.totals[key], 'number')
    for (const part of ['queueWaitMs', 'serviceMs']) for (const key of ['mean', 'p50', 'p95', 'p99']) assert.equal(typeof report[part][key], 'number')
    for (const key of ['p50', 'p95', 'p99']) assert.equal(typeof report.latencyMs[key], 'number')
    assert.deepEqual(report.recommendations.map((r: {id: string}) => r.id), ['connections', 'queue-size', 'instances'])
    assert.ok(report.timing.speedup > 1, 'virtual mode reports its speed-up')
    const second = JSON.parse((await runCli(args)).stdout)
    delete report.timing
    delete second.timing
    assert.deepEqual(second, report)
  })

  it('human output: summary table and recommendations with their reasoning; no escape codes in a pipe', async () => {
    const result = await runCli(['simulate', '--virtual', '--max-connections', '200'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /Summary/)
    assert.match(result.stdout, /rejected \(backpressure\)/)
    assert.match(result.stdout, /Little's law/)
    assert.match(result.stdout, /instances: \d+\. max_connections 200 \(--max-connections\)/)
    assert.match(result.stdout, /× real time/)
    assert.doesNotMatch(result.stdout + result.stderr, ESCAPE)
  })

  it('bad flags: one stderr line naming every bad field, exit 64, no stack', async () => {
    const result = await runCli(['simulate', '--virtual', '--connections', '0', '--service-time', '50'])
    assert.equal(result.code, 64)
    const errors = lines(result.stderr)
    assert.equal(errors.length, 1, result.stderr)
    assert.match(errors[0], /^poolctl: connections: .*; service-time: .*unit/)
  })

  it('scenario files (YAML, JSON): same fields as the flags, flags win, bad fields → BAD_SCENARIO (exit 64)', async () => {
    const yaml = join(dir, 'burst.yaml')
    await writeFile(yaml, 'virtual: true\nconnections: 4\nqueue-size: 20\nphases:\n  - steady:5s@50\n  - {kind: spike, duration: 2s, rate: 400}\nseed: 9\n')
    const result = await runCli(['simulate', '--scenario', yaml, '--connections', '6', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.equal(report.config.connections, 6)
    assert.equal(report.config.queueSize, 20)
    assert.equal(report.config.durationMs, 7000)

    const bad = join(dir, 'bad.json')
    await writeFile(bad, JSON.stringify({virtual: true, rate: -1, 'service-dist': 'weibull', colour: 'red'}))
    const failed = await runCli(['simulate', '--scenario', bad, '--json'])
    assert.equal(failed.code, 64)
    const {error} = JSON.parse(failed.stdout)
    assert.equal(error.code, 'BAD_SCENARIO')
    assert.match(error.message, /unknown field `colour`.*rate: .*service-dist: expected one of constant, exponential, lognormal/)

    const missing = await runCli(['simulate', '--scenario', join(dir, 'nope.yaml')])
    assert.equal(missing.code, 64)
    assert.match(missing.stderr, /^poolctl: cannot read scenario .*nope\.yaml: ENOENT\n$/)
  })

  it('compare: several values of one flag run on the same seeded load, side by side; --report writes JSON', async () => {
    const file = join(dir, 'compare.json')
    const args = ['simulate', '--virtual', '--connections', '4,8,16', '--rate', '150', '--duration', '20s', '--report', file]
    const human = await runCli(args)
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /Compare: same seeded load, connections = 4, 8, 16/)
    const written = JSON.parse(await readFile(file, 'utf8'))
    assert.deepEqual(written.compare, {field: 'connections', values: ['4', '8', '16']})
    const [small, medium, large] = written.runs
    assert.equal(small.totals.submitted, large.totals.submitted)
    assert.ok(small.totals.rejected > medium.totals.rejected && medium.latencyMs.p99 >= large.latencyMs.p99)
  })
})
