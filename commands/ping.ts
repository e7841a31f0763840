import {BaseCommand} from '../src/cli/base-command.js'
import type {PingResult} from '../src/ping/ping.js'

export default class Ping extends BaseCommand<typeof Ping> {
  static override summary = 'Connect once and show the server version, user, database and round-trip latency.'

  static override description = `Proves that poolctl can reach the database the way every other command will:
same connection resolution, application_name, timeouts and error handling.
Exits 0 when connected, 3 when it could not connect or read the configuration.`

  static override examples = [
    '<%= config.bin %> ping',
    '<%= config.bin %> ping --url postgres://app@db.internal:5432/app --json',
    '<%= config.bin %> ping --knexfile knexfile.ts --env production',
  ]

  public async run(): Promise<PingResult> {
    const settings = await this.connectionSettings()
    const {formatPing, ping} = await import('../src/ping/ping.js')
    const result = await ping(settings, {logger: this.logger})
    this.log(formatPing(result))
    return result
  }
}
