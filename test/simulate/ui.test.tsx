/** The live UI's layers: components from props (ink-testing-library), the plain progress line, the facade. */
import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {describe, it} from 'node:test'

import {render} from 'ink-testing-library'

import type {Snapshot} from '../../src/simulate/engine.js'
import {formatProgressLine, sparkline} from '../../src/simulate/progress.js'
import {App} from '../../src/simulate/ui/app.js'
import {Dashboard, Gauge} from '../../src/simulate/ui/dashboard.js'
import {startLiveOutput} from '../../src/simulate/ui/live.js'
import {ESCAPE} from './support.js'

const summary = (p99: number) => ({count: 10, mean: p99 / 2, p50: p99 / 3, p95: p99 * 0.9, p99, max: p99})

function snapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    elapsedMs: 5000,
    durationMs: 20_000,
    offeredRate: 400,
    pool: {inUse: 10, idle: 0, max: 10, pending: 0},
    queue: {depth: 100, bound: 100, active: 10, maxActive: 10},
    totals: {submitted: 1500, completed: 1200, rejected: 250, failed: 3, timedOut: 2, deadLettered: 1, aborted: 0},
    throughputPerSec: 198.5,
    latencyMs: summary(900),
    queueWaitMs: summary(850),
    serviceMs: summary(150),
    breaker: 'open',
    history: [1, 5, 40, 100, 100].map((depth, i) => ({t: i + 1, queueDepth: depth, inUse: 10, latencyMs: depth * 5, completed: 200, rejected: 0})),
    finished: false,
    ...overrides,
  }
}

describe('simulate UI components', () => {
  it('the dashboard shows pool, queue against its bound, counters, latency split, breaker and history', () => {
    const {lastFrame, unmount} = render(<Dashboard snapshot={snapshot()} title="poolctl simulate" />)
    const frame = lastFrame() ?? ''
    unmount()
    for (const text of ['pool in use', '10/10', 'queue', '100/100', 'rejected 250', 'failed 3', 'timed out 2', 'dead-lettered 1', 'breaker open', 'queue wait', 'p99 850.0 ms', 'service', 'queue depth', 'throughput 198.5/s', 'q or Ctrl-C']) {
      assert.ok(frame.includes(text), `missing ${JSON.stringify(text)} in\n${frame}`)
    }
  })

  it('an unbounded queue draws no bar', () => {
    const {lastFrame, unmount} = render(<Gauge label="queue" used={7} max={Infinity} />)
    assert.match(lastFrame() ?? '', /queue\s+7\/∞/)
    unmount()
  })

  it('q asks the run to stop', async () => {
    let quit = 0
    const {stdin, unmount} = render(<App snapshot={snapshot()} title="t" onQuit={() => quit++} />)
    await new Promise((resolve) => setTimeout(resolve, 50))
    stdin.write('q')
    await new Promise((resolve) => setTimeout(resolve, 50))
    unmount()
    assert.equal(quit, 1)
  })
})

describe('simulate plain output', () => {
  it('the progress line is plain text with every headline number', () => {
    const line = formatProgressLine(snapshot())
    assert.doesNotMatch(line, ESCAPE)
    assert.equal(line, '[5.0s/20.0s]  rate 400/s  in use 10/10  queue 100/100  completed 1200  rejected 250  failed 3  timed out 2  p99 900ms  breaker open')
  })

  it('sparkline scales to the maximum', () => {
    assert.equal(sparkline([0, 50, 100], 10), '▁▄█')
    assert.equal(sparkline([0, 0], 10), '▁▁')
  })

  it('the facade writes plain lines, never escape codes, when not interactive', async () => {
    const progress = new PassThrough()
    let text = ''
    progress.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const live = await startLiveOutput({
      interactive: false,
      snapshot: () => snapshot(),
      title: 't',
      progress,
      stdout: process.stdout,
      stdin: process.stdin,
      onQuit: () => undefined,
    })
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await live.stop()
    assert.match(text, /^\[5\.0s\/20\.0s\] .*\n$/)
    assert.doesNotMatch(text, ESCAPE)
  })
})

describe('simulate in a real terminal', () => {
  it('ink draws the dashboard and q stops the run cleanly (report printed, exit 130)', async (t) => {
    const {HAS_SCRIPT, spawnOnTerminal, typeOnceShown} = await import('../support/cli.js')
    if (!HAS_SCRIPT) {
      t.skip('util-linux `script` not installed: no pseudo-terminal to run ink in')
      return
    }
    // A virtual hour at 1000/s takes far longer than this test: only q ends it early.
    const child = spawnOnTerminal(['simulate', '--virtual', '--rate', '1000', '--duration', '1h'])
    const {code, output} = await typeOnceShown(child, (text) => text.includes('q or Ctrl-C') && text.includes('pool in use'), ['q'])
    assert.equal(code, 130, output)
    assert.ok(ESCAPE.test(output), 'ink draws with escape codes in a terminal')
    assert.match(output, /stopped early/)
    assert.match(output, /Recommendations/)
  })
})
