/** Helpers shared by the inspect tests: real sessions in known states, polling, CLI runs. */
import assert from 'node:assert/strict'
import {accessSync, constants} from 'node:fs'

import type {Client} from 'pg'

import type {PostgresReport} from '../../src/inspect/types.js'
import {runCli, type CliResult, type RunCliOptions} from '../support/cli.js'

/** A connected client with this application_name; errors on it never crash the test process. */
export async function openSession(url: string, applicationName: string): Promise<Client> {
  const {default: pg} = await import('pg')
  const client = new pg.Client({application_name: applicationName, connectionString: url, connectionTimeoutMillis: 10_000})
  client.on('error', () => undefined)
  await client.connect()
  return client
}

/** Start a statement and do not wait for it (it blocks or sleeps); its failure on close is expected. */
export function startQuery(client: Client, text: string): void {
  client.query(text).catch(() => undefined)
}

export async function closeAll(clients: Iterable<Client>): Promise<void> {
  await Promise.all([...clients].map((client) => client.end().catch(() => undefined)))
}

/** Poll `check` until it returns true (every 25 ms, at most `timeoutMs`). */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** `poolctl inspect --json …`, parsed; asserts a JSON body even for non-zero exits. */
export async function inspectJson(args: string[], options: RunCliOptions = {}): Promise<{result: CliResult; report: PostgresReport}> {
  const result = await runCli(['inspect', '--json', ...args], options)
  let report: PostgresReport
  try {
    report = JSON.parse(result.stdout) as PostgresReport
  } catch {
    assert.fail(`inspect --json printed no JSON (exit ${result.code}):\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
  }
  return {report, result}
}

export function group(report: PostgresReport, application: string) {
  return report.byApplication.find((item) => item.name === application)
}

/** Every form in which a password could leak. */
export function assertNoSecret(text: string, secret: string): void {
  for (const form of [secret, encodeURIComponent(secret)]) {
    assert.ok(!text.includes(form), `secret leaked as ${form}:\n${text}`)
  }
}

/** Where a Debian binary lives, or undefined (PATH plus /usr/sbin, where pgbouncer is installed). */
export function findBinary(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin']) {
    if (!dir) continue
    const path = `${dir}/${name}`
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not here
    }
  }
  return undefined
}

// eslint-disable-next-line no-control-regex
export const ESCAPE = /\u001B/
