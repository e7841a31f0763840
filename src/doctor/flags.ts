/** The flags of `poolctl doctor` and its exit codes (eslint's, not the Nagios ones of the other commands). */
import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {CliError, ErrorCode} from '../errors.js'
import {parseInstances} from '../inspect/options.js'
import {FORMATS} from './reporters/index.js'

export const DoctorExit = {
  /** No error-severity diagnostic (warnings do not fail, as in eslint). */
  CLEAN: 0,
  /** At least one error-severity diagnostic. */
  PROBLEMS: 1,
  /** Bad command line, bad config file, could not connect (--url), internal error. */
  FAILED: 2,
} as const

export const doctorArgs = {
  path: Args.string({description: 'Files or directories to check (several allowed) [default: .].'}),
}

export const doctorBaseFlags = {
  ...BaseCommand.loggingFlags,
  'connect-timeout': BaseCommand.connectionFlags['connect-timeout'],
  url: Flags.string({
    char: 'u',
    helpGroup: 'CONNECTION',
    summary: "Read the server's usable connection slots from this PostgreSQL (for pool-oversized). Without it doctor never connects.",
  }),
}

export const doctorFlags = {
  concurrency: Flags.custom<number>({
    async parse(input) {
      const value = Number(input)
      if (!/^\s*\d+\s*$/.test(input) || !Number.isSafeInteger(value) || value < 1) {
        throw new CliError(ErrorCode.USAGE, `Expected --concurrency to be a whole number from 1 up (requests served at once), got \`${input}\``)
      }
      return value
    },
  })({summary: 'Declared concurrency (requests needing a connection at once, all instances together) for pool-undersized; overrides the config file.'}),
  format: Flags.option({
    default: 'compact' as const,
    options: FORMATS,
    summary: "Output: compact (VS Code's $eslint-compact), gcc, json, sarif (2.1.0, GitHub code scanning) or github (workflow annotations).",
  })(),
  instances: Flags.custom<number>({
    async parse(input) {
      return parseInstances(input)
    },
  })({summary: "Processes × replicas running each knexfile environment's pool: demand = max × N [default: config file, else 1]."}),
  quiet: Flags.boolean({char: 'q', summary: 'Report errors only, no warnings or infos.'}),
  rule: Flags.string({
    multiple: true,
    // `--rule separate-pool src/` must leave src/ to the PATH arguments
    multipleNonGreedy: true,
    summary: 'Run only this rule (repeatable, or comma-separated).',
  }),
}

/** `--rule a --rule b,c` → ['a', 'b', 'c']. */
export function ruleList(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined
  const ids = values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean)
  // `--rule ''` (an unset shell variable) must not silently mean "every rule".
  if (ids.length === 0) throw new CliError(ErrorCode.USAGE, '--rule needs at least one rule id')
  return ids
}
