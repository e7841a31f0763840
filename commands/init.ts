import {Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base-command.js'
import {CliError, ErrorCode} from '../src/errors.js'
import type {InitReport} from '../src/init/init.js'

const count = (summary: string, defaultValue: number, min = 0) => Flags.integer({default: defaultValue, helpGroup: 'SIZING', min, summary})

export default class Init extends BaseCommand<typeof Init> {
  static override summary = 'Scaffold pool settings, monitoring, CI, test set-up, load tests and PgBouncer into a knex/pg project.'

  static override description = `Detects the project (ESM or CommonJS, TypeScript, test runner, knexfile and
its environments, workflows), sizes the pool from the real concurrency against
the server's usable slots, and writes files from templates. Never overwrites a
file that differs (a conflict, exit 1) unless --force; never deletes anything;
identical files are left alone, so a second run changes nothing.

On a TTY it asks which parts to scaffold; without one it needs --yes or --only.

Exit codes: 0 done; 1 conflicts left unwritten; 3 a knexfile that fails to load,
--url could not be read, or the project cannot be written; 64 bad flags, --dir
not a project, contradictory sizing. See docs/init.md.`

  static override examples = [
    '<%= config.bin %> init --yes',
    '<%= config.bin %> init --only pool --dry-run --api-concurrency 50 --workers 5 --connections-per-worker 2 --max-connections 100',
    '<%= config.bin %> init --only monitoring,ci --diff',
    '<%= config.bin %> init --yes --url postgres://app@db.internal:5432/app --instances 6',
  ]

  static override flags = {
    'api-concurrency': count('Requests per instance that hold a connection at the same time.', 10),
    'connections-per-worker': count('Connections each background worker holds.', 1),
    diff: Flags.boolean({summary: 'Show a unified diff for every file that exists and differs.'}),
    dir: Flags.string({default: '.', summary: 'The project to scaffold into (has a package.json).'}),
    'dry-run': Flags.boolean({summary: 'Write nothing; list every action.'}),
    force: Flags.boolean({summary: 'Overwrite files that exist and differ (never deletes anything).'}),
    instances: count('Processes × replicas, each with its own pool.', 1, 1),
    maintenance: count('Connections kept for migrations, cron, psql, monitoring.', 3),
    'max-connections': Flags.integer({exclusive: ['url', 'knexfile'], helpGroup: 'SIZING', min: 1, summary: "The server's max_connections (3 superuser-reserved assumed); or read it with --url."}),
    only: Flags.string({summary: 'Comma-separated parts: pool, monitoring, ci, tests, load, vscode, pgbouncer.'}),
    workers: count('Background workers per instance (jobs running at once).', 0),
    yes: Flags.boolean({char: 'y', summary: 'Scaffold the default parts without asking (required without a TTY, unless --only).'}),
  }

  public async run(): Promise<InitReport> {
    const {flags} = this
    const {defaultParts, parseParts, prepareInit, scaffold} = await import('../src/init/init.js')
    const only = flags.only === undefined ? undefined : parseParts(flags.only)
    const {isInteractiveTerminal} = await import('../src/ui/terminal.js')
    const interactive = isInteractiveTerminal({stdin: process.stdin, stdout: process.stderr})
    if (!only && !flags.yes && !interactive) {
      throw new CliError(ErrorCode.USAGE, 'not a terminal: pass --yes (default parts) or --only PART,... to choose what to scaffold')
    }
    const server = flags['max-connections']
      ? (await import('../src/sizing/sizing.js')).assumedCapacity(flags['max-connections'])
      : flags.url || flags.knexfile
        ? await (await import('../src/init/server.js')).readServerCapacity(await this.connectionSettings(), this.logger)
        : undefined
    const sizingInput = {apiConcurrency: flags['api-concurrency'], connectionsPerWorker: flags['connections-per-worker'], instances: flags.instances, maintenance: flags.maintenance, workers: flags.workers}
    const {project, sizing} = await prepareInit(flags.dir, sizingInput, server)
    let parts = only ?? defaultParts(sizing)
    if (!only && !flags.yes) {
      const {PARTS} = await import('../src/init/files.js')
      const picked = await (await import('../src/init/picker/prompt.js')).pickParts(PARTS, parts)
      if (!picked) throw new CliError(ErrorCode.REFUSED, 'cancelled: nothing was written')
      parts = picked
    }
    const report = await scaffold(project, sizing, parts, {dryRun: flags['dry-run'] === true, force: flags.force === true})
    if (!this.jsonEnabled()) this.log((await import('../src/init/format.js')).formatInitReport(report, {diff: flags.diff === true}))
    process.exitCode = report.exitCode
    return report
  }
}
