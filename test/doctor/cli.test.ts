/**
 * `poolctl doctor` end to end on the classic fixture project (three workers with their own pg.Pool, a
 * production knexfile with max 10 for 50 concurrent users, a test global set-up forcing the migration
 * lock free): exact diagnostics, every output format, exit codes, --url.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Ajv} from 'ajv'
import addFormatsModule from 'ajv-formats'

import {freePort} from '../../src/embedded/embedded-postgres.js'
import {lines, runCli} from '../support/cli.js'
import {testDatabaseUrl, withClient} from '../support/postgres.js'
import {FIXTURES, fixtureCopy} from './support.js'

/** VS Code's built-in `$eslint-compact` problem matcher (vscode extensions/typescript-language-features is not involved: it is in the core task registry). */
const ESLINT_COMPACT = /^(.+):\sline\s(\d+),\scol\s(\d+),\s(Error|Warning|Info)\s-\s(.+)\s\((.+)\)$/

const CLASSIC_EXPECTED = [
  'error pool-undersized knexfile.js:11:20',
  // `new pg.Pool()` without options: PG* variables give the connection, nothing gives the timeouts
  'error missing-acquire-timeout src/workers/billing.js:4:14',
  'warning missing-idle-timeout src/workers/billing.js:4:14',
  'error separate-pool src/workers/billing.js:4:14',
  'error missing-acquire-timeout src/workers/email.js:4:14',
  'warning missing-idle-timeout src/workers/email.js:4:14',
  'error separate-pool src/workers/email.js:4:14',
  'error separate-pool src/workers/reports.js:3:14',
  'error force-free-lock test/global-setup.js:5:9',
]

interface JsonDiagnostic {
  ruleId: string
  severity: string
  file: string
  path: string
  line: number
  column: number
  message: string
}

const IGNORED_FILES = {
  // .gitignore'd, dependencies and build output: never read
  'generated/client.js': "const pg = require('pg')\nmodule.exports = new pg.Pool()\n",
  'node_modules/some-lib/index.js': "const pg = require('pg')\nmodule.exports = new pg.Pool()\n",
  'dist/server.js': "const pg = require('pg')\nmodule.exports = new pg.Pool()\n",
}

describe('poolctl doctor on the classic fixture project', () => {
  let dir: string

  before(async () => {
    dir = await fixtureCopy('classic', IGNORED_FILES)
  })

  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('reports exactly the expected diagnostics at the right lines and columns, and exits 1', async () => {
    const result = await runCli(['doctor', '--format', 'json'], {cwd: dir})
    assert.equal(result.code, 1, result.stderr)
    assert.equal(result.stderr, '')
    const report = JSON.parse(result.stdout) as {diagnostics: JsonDiagnostic[]; counts: Record<string, number>; filesScanned: number; root: string}
    assert.deepEqual(report.diagnostics.map((d) => `${d.severity} ${d.ruleId} ${d.path}:${d.line}:${d.column}`), CLASSIC_EXPECTED)
    assert.deepEqual(report.counts, {error: 7, info: 0, warning: 2})
    assert.equal(report.filesScanned, 9) // 8 sources and package.json
    assert.equal(report.diagnostics[0].file, join(dir, 'knexfile.js'))
    assert.match(report.diagnostics[0].message, /pool max 10 × 1 instance = 10 connections for a declared concurrency of 50/)
  })

  it('compact (the default) prints $eslint-compact lines with absolute paths', async () => {
    const result = await runCli(['doctor'], {cwd: dir})
    assert.equal(result.code, 1)
    const problems = lines(result.stdout).slice(0, -1)
    assert.equal(problems.length, CLASSIC_EXPECTED.length)
    for (const line of problems) {
      const match = ESLINT_COMPACT.exec(line)
      assert.ok(match, `not an $eslint-compact line: ${line}`)
      assert.ok(match[1].startsWith(`${dir}/`), match[1])
      assert.ok(['separate-pool', 'pool-undersized', 'missing-acquire-timeout', 'missing-idle-timeout', 'force-free-lock'].includes(match[6]), match[6])
    }
    const first = ESLINT_COMPACT.exec(problems[0])!
    assert.deepEqual([first[1], first[2], first[3], first[4], first[6]], [join(dir, 'knexfile.js'), '11', '20', 'Error', 'pool-undersized'])
    assert.equal(lines(result.stdout).at(-1), '9 problems (7 errors, 2 warnings)')
  })

  it('gcc and github formats', async () => {
    const gcc = await runCli(['doctor', '--format', 'gcc'], {cwd: dir})
    assert.match(lines(gcc.stdout)[0], /^knexfile\.js:11:20: error: knexfile environment `production`: .* \[pool-undersized\]$/)
    assert.match(lines(gcc.stdout)[5], /^src\/workers\/email\.js:4:14: warning: .* \[missing-idle-timeout\]$/)
    const github = await runCli(['doctor', '--format', 'github'], {cwd: dir})
    assert.equal(github.code, 1)
    assert.match(lines(github.stdout)[0], /^::error file=knexfile\.js,line=11,col=20,endLine=11,endColumn=27,title=pool-undersized::knexfile environment `production`: pool max 10/)
    assert.match(lines(github.stdout)[5], /^::warning file=src\/workers\/email\.js,line=4,col=14,.*title=missing-idle-timeout::/)
  })

  it('SARIF validates against the SARIF 2.1.0 JSON schema, with repo-relative URIs and regions', async () => {
    const result = await runCli(['doctor', '--format', 'sarif'], {cwd: dir})
    assert.equal(result.code, 1)
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const log: any = JSON.parse(result.stdout)
    const schema = JSON.parse(readFileSync(join(FIXTURES, 'sarif-schema-2.1.0.json'), 'utf8'))
    const ajv = new Ajv({allErrors: true, strict: false})
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv
    addFormats(ajv)
    const validate = ajv.compile(schema)
    const candidate: unknown = log
    const valid = validate(candidate)
    assert.ok(valid, JSON.stringify(validate.errors, null, 2))
    const run = log.runs[0]
    assert.equal(run.tool.driver.name, 'poolctl')
    assert.equal(run.tool.driver.rules.length, 12)
    assert.equal(run.results.length, CLASSIC_EXPECTED.length)
    const first = run.results[0]
    assert.equal(first.ruleId, 'pool-undersized')
    assert.equal(run.tool.driver.rules[first.ruleIndex].id, 'pool-undersized')
    assert.deepEqual(first.locations[0].physicalLocation.artifactLocation, {uri: 'knexfile.js', uriBaseId: '%SRCROOT%'})
    assert.deepEqual(first.locations[0].physicalLocation.region, {endColumn: 27, endLine: 11, startColumn: 20, startLine: 11})

    // The validator is not a rubber stamp: a result without a message is rejected.
    delete log.runs[0].results[0].message
    assert.equal(validate(log), false)
  })

  it('PATH arguments, --rule, --quiet and --instances', async () => {
    const workers = await runCli(['doctor', 'src/workers/reports.js', 'knexfile.js', '--format', 'json'], {cwd: dir})
    const paths = (JSON.parse(workers.stdout) as {diagnostics: JsonDiagnostic[]}).diagnostics.map((d) => `${d.ruleId} ${d.path}`)
    // alone, reports.js is the only module building a pool, so it is the shared one
    assert.deepEqual(paths, ['pool-undersized knexfile.js'])
    const only = await runCli(['doctor', '--rule', 'separate-pool,force-free-lock', '--format', 'json'], {cwd: dir})
    assert.deepEqual((JSON.parse(only.stdout) as {diagnostics: JsonDiagnostic[]}).diagnostics.map((d) => d.ruleId), ['separate-pool', 'separate-pool', 'separate-pool', 'force-free-lock'])
    const quiet = await runCli(['doctor', '--quiet', '--format', 'json'], {cwd: dir})
    assert.ok((JSON.parse(quiet.stdout) as {diagnostics: JsonDiagnostic[]}).diagnostics.every((d) => d.severity === 'error'))
    const scaled = await runCli(['doctor', '--rule', 'pool-undersized', '--instances', '5'], {cwd: dir})
    assert.equal(scaled.code, 0, scaled.stdout)
    assert.equal(scaled.stdout, '')
  })

  it('exit 0 when only warnings (or nothing) are found', async () => {
    const warnings = await runCli(['doctor', '--rule', 'missing-idle-timeout'], {cwd: dir})
    assert.equal(warnings.code, 0)
    assert.deepEqual(lines(warnings.stdout).map((line) => ESLINT_COMPACT.exec(line)?.[4] ?? line), ['Warning', 'Warning', '2 problems (0 errors, 2 warnings)'])
    const clean = await runCli(['doctor', 'src/orders.js', 'src/server.js'], {cwd: dir})
    assert.equal(clean.code, 0)
    assert.equal(clean.stdout, '')
  })
})

describe('poolctl doctor: config file and exit code 2', () => {
  let dir: string

  before(async () => {
    dir = await fixtureCopy('classic')
  })

  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('the config file sets severities and can switch rules off', async () => {
    await writeFile(join(dir, '.poolctlrc.json'), JSON.stringify({doctor: {concurrency: 50, rules: {'separate-pool': 'warning', 'missing-acquire-timeout': 'off', 'force-free-lock': 'off'}}}))
    const result = await runCli(['doctor', '--format', 'json'], {cwd: dir})
    const report = JSON.parse(result.stdout) as {diagnostics: JsonDiagnostic[]}
    assert.deepEqual(report.diagnostics.map((d) => `${d.severity} ${d.ruleId}`), [
      'error pool-undersized',
      'warning missing-idle-timeout',
      'warning separate-pool',
      'warning missing-idle-timeout',
      'warning separate-pool',
      'warning separate-pool',
    ])
    assert.equal(result.code, 1)
    await writeFile(join(dir, '.poolctlrc.json'), JSON.stringify({doctor: {rules: {'pool-undersized': 'info', 'separate-pool': 'warning', 'missing-acquire-timeout': 'warning', 'force-free-lock': 'warning'}, concurrency: 50}}))
    assert.equal((await runCli(['doctor'], {cwd: dir})).code, 0)
  })

  for (const [name, args, config, expected] of [
    ['an unknown flag', ['--bogus'], undefined, /--bogus/],
    ['a bad --format', ['--format', 'xml'], undefined, /format/],
    ['an unknown --rule', ['--rule', 'no-such-rule'], undefined, /unknown rule no-such-rule/],
    ['an empty --rule (an unset shell variable)', ['--rule', ''], undefined, /--rule needs at least one rule id/],
    ['a bad --instances', ['--instances', '0'], undefined, /--instances/],
    ['a missing path', ['no/such/dir'], undefined, /no such file or directory: no\/such\/dir/],
    ['an unknown config key', [], {doctor: {concurency: 50}}, /unknown key "concurency"/],
    ['a bad severity', [], {doctor: {rules: {'separate-pool': 'fatal'}}}, /rules."separate-pool"/],
  ] as const) {
    it(`${name}: exit 2, one line on stderr, nothing on stdout`, async () => {
      if (config !== undefined) await writeFile(join(dir, '.poolctlrc.json'), JSON.stringify(config))
      try {
        const result = await runCli(['doctor', ...args], {cwd: dir})
        assert.equal(result.code, 2, result.stderr)
        assert.equal(result.stdout, '')
        assert.equal(lines(result.stderr).length, 1, result.stderr)
        assert.match(result.stderr, /^poolctl: /)
        assert.match(result.stderr, expected)
      } finally {
        if (config !== undefined) await writeFile(join(dir, '.poolctlrc.json'), JSON.stringify({doctor: {concurrency: {production: 50}}}))
      }
    })
  }
})

describe('poolctl doctor --url', () => {
  let dir: string
  let url: string
  let usable: number

  before(async () => {
    url = await testDatabaseUrl()
    usable = await withClient(url, async (client) => {
      const {rows} = await client.query<{usable: number}>(
        `select current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                - coalesce(current_setting('reserved_connections', true)::int, 0) as usable`,
      )
      return rows[0].usable
    })
    dir = await fixtureCopy('classic')
  })

  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it("feeds the server's usable slots into pool-oversized", async () => {
    const instances = Math.floor(usable / 10) + 1 // max 10 × instances > usable
    const result = await runCli(['doctor', '--rule', 'pool-oversized', '--url', url, '--instances', String(instances), '--format', 'json'], {cwd: dir})
    assert.equal(result.code, 1, result.stderr)
    const report = JSON.parse(result.stdout) as {diagnostics: JsonDiagnostic[]}
    assert.deepEqual(report.diagnostics.map((d) => `${d.ruleId} ${d.path}:${d.line}:${d.column}`), ['pool-oversized knexfile.js:11:20'])
    assert.match(report.diagnostics[0].message, new RegExp(`= ${instances * 10} connections, but the server has ${usable} usable slots`))
    const password = new URL(url).password
    if (password.length >= 4) assert.ok(!result.stdout.includes(password))

    const fits = await runCli(['doctor', '--rule', 'pool-oversized', '--url', url, '--instances', String(Math.floor(usable / 10))], {cwd: dir})
    assert.equal(fits.code, 0, fits.stdout + fits.stderr)
  })

  it('exit 2 when the server cannot be reached', async () => {
    const port = await freePort()
    const result = await runCli(['doctor', '--url', `postgres://app:secret-pw@127.0.0.1:${port}/app`, '--connect-timeout', '2s'], {cwd: dir})
    assert.equal(result.code, 2)
    assert.equal(lines(result.stderr).length, 1)
    assert.ok(!result.stderr.includes('secret-pw'))
  })
})

describe('poolctl doctor on files it cannot fully check', () => {
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'poolctl-doctor-odd-'))
    await mkdir(join(dir, '.git'))
    await mkdir(join(dir, 'src'))
  })

  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('nothing to check: exit 0, empty stdout, one note on stderr', async () => {
    const result = await runCli(['doctor'], {cwd: dir})
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, '')
    assert.deepEqual(lines(result.stderr), ["poolctl: warning: no JavaScript or TypeScript files to check in . (.gitignore'd files, node_modules and build output are skipped)"])
  })

  it('a syntax error is named on stderr, the rest of the file is still checked, and nothing crashes', async () => {
    await writeFile(join(dir, 'src/broken.js'), "const {Pool} = require('pg')\nconst pool = new Pool({max: 5})\nfunction (\n")
    await writeFile(join(dir, 'src/binary.js'), Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02, 0x00, 0x9c]))
    // deeper than the TypeScript parser's recursion can go
    await writeFile(join(dir, 'src/deep.js'), `module.exports = ${'['.repeat(5000)}${']'.repeat(5000)}\n`)
    const result = await runCli(['doctor', '--rule', 'missing-acquire-timeout', '--format', 'gcc'], {cwd: dir})
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stdout, /^src\/broken\.js:2:14: error: .*\[missing-acquire-timeout\]\n$/)
    const stderr = lines(result.stderr)
    assert.equal(stderr.length, 3, result.stderr)
    assert.match(stderr[0], /^poolctl: warning: src\/binary\.js:1:1: syntax error \(.*\); checked only what the parser could recover$/)
    assert.match(stderr[1], /^poolctl: warning: src\/broken\.js:3:\d+: syntax error \(.*\); checked only what the parser could recover$/)
    assert.match(stderr[2], /^poolctl: warning: src\/deep\.js: not checked, nested too deeply to parse/)
    assert.doesNotMatch(result.stderr, /\n\s+at /)
  })
})
