import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {execFileSync} from 'node:child_process'

import {DEV_BIN, lines, PROJECT_ROOT, runCli} from '../support/cli.js'

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {version: string}

describe('poolctl (no command)', () => {
  it('--help lists ping', async () => {
    const result = await runCli(['--help'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /USAGE/)
    assert.match(result.stdout, /^\s+ping\s+/m)
  })

  it('--version prints the package version', async () => {
    const result = await runCli(['--version'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`^poolctl/${pkg.version.replaceAll('.', String.raw`\.`)} `))
  })

  it("--version's fast path (no oclif loaded) prints exactly what oclif itself would", async () => {
    const fast = await runCli(['--version'])
    const {Config} = await import('@oclif/core')
    const config = await Config.load(PROJECT_ROOT)
    assert.equal(fast.stdout, `${config.userAgent}\n`)
  })

  it('ping --help documents the base flags', async () => {
    const result = await runCli(['ping', '--help'])
    assert.equal(result.code, 0, result.stderr)
    for (const flag of ['--url', '--knexfile', '--env', '--connect-timeout', '--statement-timeout', '--lock-timeout', '--log-level', '--json']) {
      assert.ok(result.stdout.includes(flag), `${flag} missing from help`)
    }
  })

  it('the oclif manifest made by the build lists ping with its flags', () => {
    const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, {flags: Record<string, unknown>}>
      version: string
    }
    assert.equal(manifest.version, pkg.version)
    assert.ok(manifest.commands.ping)
    assert.ok(manifest.commands.ping.flags.url)
  })
})

describe('startup cost', () => {
  it('loading a command module pulls in none of pg, pino, knex, react (they are imported inside run())', () => {
    const script = `
      import {createRequire} from 'node:module'
      const require = createRequire(import.meta.url)
      await import(${JSON.stringify(join(PROJECT_ROOT, 'dist', 'commands', 'ping.js'))})
      console.log(JSON.stringify(Object.keys(require.cache)))`
    const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8'})) as string[]
    assert.ok(loaded.some((path) => path.includes('@oclif/core')), 'sanity: the CJS cache is visible')
    for (const heavy of ['/node_modules/pg/', '/node_modules/pino/', '/node_modules/knex/', '/node_modules/react/']) {
      assert.ok(!loaded.some((path) => path.includes(heavy)), `${heavy} was loaded at import time`)
    }
  })
})

describe('bin/dev.js', () => {
  it('runs the TypeScript sources through tsx', async () => {
    const result = await runCli(['ping', '--help'], {bin: DEV_BIN})
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /--connect-timeout/)
  })
})

describe('usage errors exit 64 with one line', () => {
  for (const args of [
    ['ping', '--no-such-flag'],
    ['ping', '--connect-timeout', 'soon'],
    ['ping', '--log-level', 'loud'],
    ['ping', '--url', 'postgres://h/d', '--knexfile', 'knexfile.js'],
  ]) {
    it(`poolctl ${args.join(' ')}`, async () => {
      const result = await runCli(args)
      assert.equal(result.code, 64, result.stderr)
      assert.equal(result.stdout, '')
      const errorLines = lines(result.stderr)
      assert.equal(errorLines.length, 1, result.stderr)
      assert.match(errorLines[0], /^poolctl: /)
    })
  }

  it('--json puts the usage error on stdout as JSON', async () => {
    const result = await runCli(['ping', '--json', '--no-such-flag'])
    assert.equal(result.code, 64)
    const parsed = JSON.parse(result.stdout) as {error: {code: string; message: string}}
    assert.equal(parsed.error.code, 'USAGE')
  })

  it('an unknown command exits 64', async () => {
    const result = await runCli(['no-such-command'])
    assert.equal(result.code, 64)
  })
})
