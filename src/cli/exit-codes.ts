/**
 * Process exit codes shared by every poolctl command.
 *
 * 0–3 follow the Nagios / check_postgres plugin convention so that checks can be
 * wired into monitoring as they are. Usage errors get 64 (EX_USAGE from
 * sysexits.h) instead of oclif's default 2, because 2 already means CRITICAL.
 */
export const ExitCode = {
  /** Everything is fine / the command did what was asked. */
  OK: 0,
  /** A warning threshold was crossed, or poolctl refused to do something unsafe. */
  WARNING: 1,
  /** A critical threshold was crossed, or a resource (e.g. a lock) is held. */
  CRITICAL: 2,
  /** Could not find out: could not connect, could not read the config, internal error. */
  UNKNOWN: 3,
  /** Bad command line: unknown flag, bad flag value, unknown command. */
  USAGE: 64,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export function exitCodeName(code: number): string {
  for (const [name, value] of Object.entries(ExitCode)) {
    if (value === code) return name
  }
  return `EXIT_${code}`
}
