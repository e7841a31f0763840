import {BaseCommand} from '../src/cli/base-command.js'
import {ErrorCode, CliError} from '../src/errors.js'
import {formatFromArgv, inspectFlags} from '../src/inspect/flags.js'
import type {InspectReport} from '../src/inspect/types.js'

export default class Inspect extends BaseCommand<typeof Inspect> {
  static override summary = "Who holds the connections, what they are doing, how much headroom is left, and whether the app's pool fits."

  static override description = [
    'One read-only snapshot over one connection: capacity against the usable slots (max_connections minus both reserves), ' +
      'client connections by state, application, user, database and client address, long queries, sessions idle in transaction, ' +
      "lock waits with their root blocker, the oldest transaction; with --knexfile, the app's pool (max × --instances) against the server. " +
      'Pointed at a PgBouncer admin console (database "pgbouncer"), it reads SHOW POOLS / SHOW DATABASES instead.',
    'Exit codes (Nagios / check_postgres): 0 ok, 1 warning, 2 critical, 3 unknown (could not connect or read), 64 bad command line.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> inspect --url postgres://monitor@db.internal:5432/app',
    '<%= config.bin %> inspect --knexfile knexfile.js --env production --instances 12',
    '<%= config.bin %> inspect --format prometheus > /var/lib/node_exporter/poolctl.prom',
    '<%= config.bin %> inspect --watch --interval 5',
    '<%= config.bin %> inspect --url postgres://admin@127.0.0.1:6432/pgbouncer',
  ]

  static override flags = inspectFlags

  /** `--format json` is `--json`: same output, same JSON errors. */
  public override jsonEnabled(): boolean {
    return super.jsonEnabled() || formatFromArgv(this.argv) === 'json'
  }

  public async run(): Promise<InspectReport | undefined> {
    const {flags} = this
    const {DEFAULT_INTERVAL_SECONDS, resolveThresholds} = await import('../src/inspect/options.js')
    const thresholds = resolveThresholds({
      critPercent: flags.crit,
      idleInTransactionMillis: flags['idle-in-transaction'],
      lockWaitMillis: flags['lock-wait'],
      longQueryMillis: flags['long-query'],
      warnPercent: flags.warn,
    })
    const format = this.jsonEnabled() ? 'json' : flags.format
    if (flags.watch && format !== 'table') {
      throw new CliError(ErrorCode.USAGE, '--watch draws a live view; it cannot be combined with --json or --format json|prometheus')
    }
    const resolved = await this.resolveConnection()
    const {appPoolFromKnexfile} = await import('../src/inspect/pool.js')
    const pool = resolved.knexfile ? await appPoolFromKnexfile(resolved.knexfile, resolved.settings, flags.instances) : undefined
    const inspect = await import('../src/inspect/inspect.js')
    if (flags.watch) {
      await inspect.watch(resolved.settings, {intervalSeconds: flags.interval ?? DEFAULT_INTERVAL_SECONDS, logger: this.logger, pool, thresholds})
      return undefined
    }
    const report = await inspect.inspectOnce(resolved.settings, {logger: this.logger, pool, thresholds})
    process.exitCode = inspect.exitCodeForStatus(report.status)
    if (format === 'json') return report
    this.log(inspect.renderReport(report, format))
    return report
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    // A scrape must still see that poolctl ran and failed (poolctl_up 0), not a stale file.
    if (formatFromArgv(this.argv) === 'prometheus' && (error as {code?: string}).code !== ErrorCode.USAGE && !('oclif' in error)) {
      const {renderPrometheusDown} = await import('../src/inspect/render/prometheus.js')
      process.stdout.write(renderPrometheusDown())
    }
    return super.catch(error)
  }
}
