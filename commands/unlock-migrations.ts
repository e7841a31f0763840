import {Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base-command.js'
import {durationFlag} from '../src/cli/flags.js'
import {parsePid} from '../src/pg/sql.js'
import type {UnlockReport} from '../src/unlock/types.js'

/** Identifiers may hold any character but NUL, and may not be empty. */
function nonEmpty(name: string): (input: string) => Promise<string> {
  return async (input) => {
    if (input.length === 0 || input.includes('\0')) throw new TypeError(`Expected --${name} to be a non-empty name without NUL characters`)
    return input
  }
}

export default class UnlockMigrations extends BaseCommand<typeof UnlockMigrations> {
  static override summary = 'Release a stuck knex migration lock, only when Postgres shows it is stale.'

  static override description = `Diagnoses knex's migration lock (<table>_lock) from Postgres itself, then acts.

States: missing (no lock table), unlocked (one row, is_locked = 0), held (a live
transaction holds the lock row, or tracking or migration activity shows a live
holder), stale (is_locked = 1, no live holder: released in one transaction),
corrupt (zero or several rows: repaired in one transaction).

Also reports the advisory locks of node-pg-migrate, Prisma Migrate,
graphile-migrate, golang-migrate, Rails, Flyway, Atlas and Kysely, and
Liquibase's databasechangeloglock.

On a TTY it asks before changing anything; without one it changes nothing
unless --yes. --dry-run never changes anything.

Exit codes: 0 nothing to do or released; 1 refused (no --yes, declined, not
the holder); 2 held by a live holder; 3 could not connect or read; 64 usage.
See docs/unlock-migrations.md.`

  static override examples = [
    '<%= config.bin %> unlock-migrations --knexfile knexfile.js',
    '<%= config.bin %> unlock-migrations --dry-run --json',
    '<%= config.bin %> unlock-migrations --yes --wait 60',
    '<%= config.bin %> unlock-migrations --terminate 48113 --yes',
    '<%= config.bin %> unlock-migrations --track --yes',
  ]

  static override flags = {
    'dry-run': Flags.boolean({summary: 'Diagnose and say what would be done; change nothing.'}),
    force: Flags.boolean({summary: 'Release a lock held by a non-transactional holder anyway (a live migrator may then double-apply).'}),
    schema: Flags.string({parse: nonEmpty('schema'), summary: "Schema of the migration tables [default: the knexfile's migrations.schemaName, else current_schema()]."}),
    table: Flags.string({parse: nonEmpty('table'), summary: "knex migrations table; the lock table is <table>_lock [default: the knexfile's migrations.tableName, else knex_migrations]."}),
    terminate: Flags.custom<number>({
      async parse(input) {
        const pid = parsePid(input)
        if (pid === undefined) throw new TypeError(`Expected --terminate to be a backend pid (a positive integer), got \`${input}\``)
        return pid
      },
    })({helpValue: 'PID', summary: 'Terminate this backend if (and only if) it holds a migration lock, then release what it left.'}),
    track: Flags.boolean({exclusive: ['untrack', 'terminate', 'force'], summary: 'Install tracking: a trigger recording who sets is_locked = 1, so a dead holder becomes provable.'}),
    untrack: Flags.boolean({exclusive: ['track', 'terminate', 'force'], summary: 'Remove the tracking trigger (and its side table once unused).'}),
    wait: durationFlag({helpValue: 'SECONDS', summary: 'While a live holder has the lock, poll up to this long (e.g. 60, 2m), then act on what is left.'}),
    yes: Flags.boolean({char: 'y', summary: 'Change things without asking (required without a TTY).'}),
  }

  public async run(): Promise<UnlockReport> {
    const {flags} = this
    const resolved = await this.resolveConnection()
    const migrations = (resolved.knexfile?.config.migrations ?? {}) as {schemaName?: unknown; tableName?: unknown}
    const {connectClient, closeClient} = await import('../src/pg/connect.js')
    const unlock = await import('../src/unlock/unlock.js')
    const {askOnTerminal} = await import('../src/unlock/confirm.js')
    const {formatPreview, formatReport} = await import('../src/unlock/format.js')
    let previewShown = false
    const client = await connectClient(resolved.settings, {applicationNameSuffix: 'unlock-migrations', logger: this.logger})
    let report: UnlockReport
    try {
      report = await unlock.unlockMigrations(client, {
        async confirm(preview, plan) {
          if (!process.stdin.isTTY || !process.stderr.isTTY) return 'no-tty'
          process.stderr.write(`${formatPreview(preview, plan)}\n`)
          previewShown = true
          return askOnTerminal('Go ahead? [y/N] ')
        },
        dryRun: flags['dry-run'],
        force: flags.force,
        onProgress: (line) => process.stderr.write(`poolctl: ${line}\n`),
        probeLockTimeoutMillis: unlock.DEFAULT_PROBE_LOCK_TIMEOUT_MILLIS,
        repairLockTimeoutMillis: flags['lock-timeout'] || unlock.DEFAULT_REPAIR_LOCK_TIMEOUT_MILLIS,
        schema: flags.schema ?? (typeof migrations.schemaName === 'string' ? migrations.schemaName : undefined),
        table: flags.table ?? (typeof migrations.tableName === 'string' ? migrations.tableName : 'knex_migrations'),
        terminatePid: flags.terminate,
        track: flags.track,
        untrack: flags.untrack,
        waitMillis: flags.wait ?? 0,
        yes: flags.yes,
      })
    } finally {
      await closeClient(client)
    }
    if (report.forced) this.warnLine('--force: released a lock whose holder may still be running; a live migrator may now apply migrations twice')
    if (!this.jsonEnabled()) this.log(formatReport(report, {outcomeOnly: previewShown}))
    process.exitCode = report.exitCode
    return report
  }
}
