#!/usr/bin/env node
// Writes docs/reliability.md from a real run: finds every compiled test that names one of the 25 cases
// of shared/reference/reliability-cases.md or one of the known bugs, runs those files with node's test
// runner (TAP), and records pass/fail per case. Usage: `npm run reliability:report` (builds first).
// Uses POOLCTL_TEST_DATABASE_URL when set, else starts an embedded PostgreSQL for the run.
import {spawnSync} from 'node:child_process'
import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))

export const CASES = [
  'blackhole_acquire',
  'dns_stall',
  'late_connect_closed',
  'refused_fast',
  'reset_on_accept',
  'create_fail_then_recover',
  'max_never_exceeded',
  'saturation_recovery',
  'idle_error_evicted',
  'checked_out_error_no_crash',
  'release_semantics',
  'terminate_all_backends',
  'query_timeout_evicts',
  'db_down_then_up',
  'validation_hangs',
  'slow_close_nonblocking',
  'latency_slicer_bandwidth',
  'limit_data_midresult',
  'lifetime_and_leak',
  'end_semantics',
  'aborted_acquire_during_validation',
  'queue_backpressure_breaker',
  'secrets_never_emitted',
  'hostile_flags',
  'scaffold_secret_files',
]

export const BUGS = [
  ['node-postgres #3543', 'a connection completing after its timeout is never marked idle and leaks a backend'],
  ['node-postgres #3197', 'connectionTimeoutMillis ignored while DNS is pending; connect() hangs'],
  ['node-postgres #3399', 'after query_timeout the broken client goes back to the pool; later queries hang'],
  ['tarn.js PR #67', 'an acquire aborted during async validation still resolves; the pool drains'],
  ['tarn.js #81', 'acquire() after destroy() waits the full timeout instead of rejecting'],
]

const PROMISES = [
  ['Fail-fast deadlines', 'acquire() settles by its deadline whatever connect, DNS, retries or validation are doing; a refused port fails at once.', ['blackhole_acquire', 'dns_stall', 'validation_hangs', 'refused_fast', 'reset_on_accept', 'db_down_then_up']],
  ['Bounds', 'never more than `max` connections (pending creates included); the queue never holds more than `maxQueueSize` and rejects only when full.', ['max_never_exceeded', 'queue_backpressure_breaker']],
  ['Eviction', 'a connection that errored, timed out, was cut or was killed is never handed out again; a late connect is closed, not pooled.', ['idle_error_evicted', 'checked_out_error_no_crash', 'query_timeout_evicts', 'limit_data_midresult', 'late_connect_closed', 'release_semantics']],
  ['Recovery', 'after failures stop, the pool serves again without a restart; killed sessions are replaced.', ['create_fail_then_recover', 'saturation_recovery', 'terminate_all_backends', 'db_down_then_up', 'slow_close_nonblocking', 'latency_slicer_bandwidth']],
  ['Lifetime and shutdown', 'idle connections retire at maxLifetime (with variation), borrowed ones are never killed, leaks are reported; end() lets borrowed work finish and rejects new acquires at once.', ['lifetime_and_leak', 'end_semantics', 'aborted_acquire_during_validation']],
  ['Secrets and hostile input', 'passwords never reach output, logs or errors; identifiers are quoted, values are parameters, pids are integers; secret files are 0600.', ['secrets_never_emitted', 'hostile_flags', 'scaffold_secret_files']],
]

function walk(dir) {
  const out = []
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...walk(path))
    else if (entry.name.endsWith('.test.js')) out.push(path)
  }

  return out
}

const names = [...CASES, ...BUGS.map(([id]) => id)]
const files = walk(join(root, 'dist', 'test')).filter(
  (file) => file.endsWith('properties.test.js') || names.some((name) => readFileSync(file, 'utf8').includes(name)),
)

let server
const env = {...process.env}
if (!env.POOLCTL_TEST_DATABASE_URL) {
  const {startEmbeddedPostgres} = await import(join(root, 'dist/src/embedded/embedded-postgres.js'))
  server = await startEmbeddedPostgres()
  env.POOLCTL_TEST_DATABASE_URL = server.url
}

let run
try {
  run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', '--test-concurrency=1', ...files], {cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
} finally {
  await server?.stop()
}

// TAP: "ok 3 - title" / "not ok 3 - title", indented for subtests; suites appear as lines too.
const results = []
for (const line of run.stdout.split('\n')) {
  const match = /^\s*(not ok|ok) \d+ - (.*?)(?: # .*)?$/.exec(line)
  if (match) results.push({ok: match[1] === 'ok', title: match[2].replaceAll('\\#', '#').replaceAll('\\\\', '\\')})
}

const testsFor = (name) => results.filter((r) => r.title.startsWith(`${name}:`) || r.title.startsWith(`${name} (`) || r.title.includes(`(regression: ${name})`))
const statusOf = (tests) => (tests.length === 0 ? 'missing' : tests.every((t) => t.ok) ? 'pass' : 'FAIL')

const caseRows = CASES.map((name, i) => {
  const tests = testsFor(name)
  return `| ${i + 1} | \`${name}\` | ${statusOf(tests)} | ${tests.length} | ${tests.map((t) => t.title.replace(/\|/g, '\\|')).join('<br>')} |`
})
const bugRows = BUGS.map(([id, what]) => {
  const tests = results.filter((r) => r.title.includes(id))
  return `| ${id} | ${what} | ${statusOf(tests)} | ${tests.map((t) => t.title.replace(/\|/g, '\\|')).join('<br>')} |`
})
const propertyRows = results
  .filter((r) => /properties|bounds, no double hand-out|FIFO within a priority/.test(r.title) && !r.title.includes('describe'))
  .map((r) => `| ${r.ok ? 'pass' : 'FAIL'} | ${r.title} |`)

const passed = CASES.filter((name) => statusOf(testsFor(name)) === 'pass').length
const fileList = files.map((file) => `\`${relative(join(root, 'dist'), file).replace(/\.js$/, '.ts')}\``).join(', ')
const doc = `# Reliability: what poolctl's pool promises, and the tests that prove it

<!-- Generated by scripts/reliability-report.mjs from a real run; do not edit by hand. -->

"Is it production ready?" is answered by what a pool survives. These are the promises poolctl's core
(\`ConnectionPool\`, \`QueueBroker\`, \`CircuitBreaker\`) and its pg adapter (\`createPgPool\`) make, each
with the named cases (from \`shared/reference/reliability-cases.md\`) that test it against a real
PostgreSQL behind an in-process fault proxy (\`test/support/fault-proxy.ts\`: latency ± jitter, down,
bandwidth, slow_close, timeout/black hole, reset_peer, slicer, limit_data) or on the virtual clock.

## Promises

${PROMISES.map(([title, text, cases]) => `- **${title}**: ${text} Proved by ${cases.map((c) => `\`${c}\``).join(', ')}.`).join('\n')}

Where poolctl draws a line: a query already sent on a connection whose backend is then killed fails
once (nobody can know whether it ran); the client is evicted and never reused, and a caller's
\`RetryPolicy\` recovers (\`terminate_all_backends\`). Durations in the fault cases are scaled down
(deadlines ≤ 2 s) so the whole suite runs in seconds; the shape of each case is kept.

## Last run

${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${passed}/${CASES.length} cases passing,
${results.filter((r) => r.ok).length} passed / ${results.filter((r) => !r.ok).length} failed TAP lines, from ${fileList}.

### Named cases

| # | case | status | tests | test titles |
|---|---|---|---|---|
${caseRows.join('\n')}

### Known bugs (regression tests written to fail on the buggy behaviour)

| bug | what it did | status | tests |
|---|---|---|---|
${bugRows.join('\n')}

### Race properties (fast-check scheduler, ≥ 1,000 runs each; \`POOLCTL_FUZZ_RUNS\` for more)

| status | property |
|---|---|
${propertyRows.join('\n')}

Regenerate: \`npm run reliability:report\`.
`
writeFileSync(join(root, 'docs', 'reliability.md'), doc)
process.stdout.write(`docs/reliability.md: ${passed}/${CASES.length} cases passing (${results.filter((r) => !r.ok).length} failing TAP lines)\n`)
process.exit(run.status === 0 && passed === CASES.length ? 0 : 1)
