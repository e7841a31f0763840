import {Errors} from '@oclif/core'

import {BaseCommand, toFailure} from '../src/cli/base-command.js'
import {doctorArgs, doctorBaseFlags, doctorFlags, DoctorExit, ruleList} from '../src/doctor/flags.js'
import {CliError, ErrorCode, type ErrorCodeValue} from '../src/errors.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Static pool and migration checks that VS Code and GitHub show as problems.'

  static override description = `Parses the project's JS/TS (TypeScript compiler API; .gitignore, node_modules and build output skipped) and
reports pools built outside the shared one, knexfile pools too small for the declared concurrency or too big for
the server (--url), missing timeouts, unreleased clients, Promise.race "timeouts", forced migration unlocks,
migration retry loops, connections without application_name and queries in loops. Rules: docs/rules/.
Exit codes (eslint's): 0 no errors, 1 errors found, 2 bad usage, bad config or internal error.`

  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor src knexfile.js --instances 6 --concurrency 200',
    '<%= config.bin %> doctor --format sarif > poolctl.sarif',
    '<%= config.bin %> doctor --url postgres://monitor@db.internal:5432/app --rule pool-oversized',
  ]

  static override args = doctorArgs
  // Only --log-level, --url and --connect-timeout: doctor reads no knexfile connection and sets no session timeouts.
  static override baseFlags = doctorBaseFlags as unknown as typeof BaseCommand.baseFlags
  static override enableJsonFlag = false
  static override flags = doctorFlags
  static override strict = false

  public async run(): Promise<void> {
    const {flags} = this
    const {argv} = await this.parse(Doctor)
    const paths = argv as string[]
    const flagLike = paths.find((path) => path.startsWith('-'))
    if (flagLike !== undefined) throw new CliError(ErrorCode.USAGE, `Nonexistent flag: ${flagLike} (see --help)`)
    const usableSlots = flags.url === undefined ? undefined : await this.readUsableSlots()
    const {runDoctor} = await import('../src/doctor/doctor.js')
    const result = runDoctor({concurrency: flags.concurrency, cwd: process.cwd(), instances: flags.instances, paths, quiet: flags.quiet, rules: ruleList(flags.rule), usableSlots})
    const {REPORTERS} = await import('../src/doctor/reporters/index.js')
    for (const warning of result.warnings) this.warnLine(warning)
    const output = REPORTERS[flags.format](result, {cwd: process.cwd(), version: this.config.version})
    if (output.length > 0) process.stdout.write(`${output}\n`)
    process.exitCode = result.counts.error > 0 ? DoctorExit.PROBLEMS : DoctorExit.CLEAN
  }

  private async readUsableSlots() {
    const {readUsableSlots} = await import('../src/doctor/server.js')
    return readUsableSlots(await this.connectionSettings(), this.logger)
  }

  /** eslint's convention: every failure, flag parsing included (64 elsewhere), exits 2. */
  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error
    const failure = toFailure(error)
    return super.catch(new CliError(failure.code as ErrorCodeValue, failure.message, {cause: error, exitCode: DoctorExit.FAILED}))
  }
}
