/**
 * The flags of `poolctl inspect` (the command file stays a thin parse → call → render). Values are
 * validated eagerly with messages that show the bad value; usage errors exit 64.
 */
import {Flags} from '@oclif/core'

import {durationFlag} from '../cli/flags.js'
import {DEFAULT_INTERVAL_SECONDS, DEFAULT_THRESHOLDS, parseInstances, parseIntervalSeconds, parsePercent} from './options.js'

// Same grammar as the connection flags' durations: 500ms, 10s, 2m, bare = seconds.
const duration = durationFlag

const percent = Flags.custom<number>({
  async parse(input, _context, options) {
    return parsePercent(input, options.name)
  },
})

export const inspectFlags = {
  crit: percent({
    helpGroup: 'THRESHOLDS',
    summary: `Critical (exit 2) at this % of usable connection slots [default: ${DEFAULT_THRESHOLDS.critPercent}].`,
  }),
  format: Flags.option({
    default: 'table' as const,
    options: ['table', 'json', 'prometheus'] as const,
    summary: 'Output: human tables, JSON (same as --json), or Prometheus text exposition format.',
  })(),
  'idle-in-transaction': duration({
    helpGroup: 'THRESHOLDS',
    summary: `Report sessions idle in transaction longer than this (aged by state_change) [default: ${DEFAULT_THRESHOLDS.idleInTransactionSeconds}s].`,
  }),
  instances: Flags.custom<number>({
    async parse(input) {
      return parseInstances(input)
    },
  })({
    dependsOn: ['knexfile'],
    summary: "Processes × replicas running the knexfile's pool: peak demand = pool max × N [default: 1].",
  }),
  interval: Flags.custom<number>({
    async parse(input) {
      return parseIntervalSeconds(input)
    },
  })({
    dependsOn: ['watch'],
    summary: `Seconds between --watch refreshes, from 1 up [default: ${DEFAULT_INTERVAL_SECONDS}].`,
  }),
  'lock-wait': duration({
    helpGroup: 'THRESHOLDS',
    summary: `Report sessions waiting for a lock longer than this, with their blocker chain [default: ${DEFAULT_THRESHOLDS.lockWaitSeconds}s].`,
  }),
  'long-query': duration({
    helpGroup: 'THRESHOLDS',
    summary: `Report queries running longer than this [default: ${DEFAULT_THRESHOLDS.longQuerySeconds}s].`,
  }),
  warn: percent({
    helpGroup: 'THRESHOLDS',
    summary: `Warning (exit 1) at this % of usable connection slots [default: ${DEFAULT_THRESHOLDS.warnPercent}].`,
  }),
  watch: Flags.boolean({
    summary: 'Live view refreshed every --interval over one connection; q or Ctrl-C quits. Not a terminal: one plain snapshot per interval.',
  }),
}

/** `--format json` as well as oclif's own `--json`, read from argv (also before flags are parsed). */
export function formatFromArgv(argv: readonly string[]): string | undefined {
  const end = argv.includes('--') ? argv.indexOf('--') : argv.length
  let format: string | undefined
  for (let i = 0; i < end; i++) {
    if (argv[i] === '--format') format = argv[i + 1]
    else if (argv[i].startsWith('--format=')) format = argv[i].slice('--format='.length)
  }
  return format
}
