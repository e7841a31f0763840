import {ExitCode, type ExitCodeValue} from '../cli/exit-codes.js'
import type {Finding, Severity, Status} from './types.js'

/**
 * Every finding code inspect emits. A code is stable (scripts match on it); its message may change.
 * docs/inspect.md has a row per code, and a test checks that it does.
 */
export const FindingCode = {
  /** Client connections at or above --warn / --crit % of the usable slots. */
  CONNECTION_USAGE: 'CONNECTION_USAGE',
  /** Other roles' sessions whose state and query this role may not read. */
  HIDDEN_SESSIONS: 'HIDDEN_SESSIONS',
  LONG_QUERIES: 'LONG_QUERIES',
  IDLE_IN_TRANSACTION: 'IDLE_IN_TRANSACTION',
  /** Sessions waiting longer than --lock-wait, one finding per root blocker. */
  LOCK_WAITS: 'LOCK_WAITS',
  /** The oldest open transaction, when older than --long-query and not reported above. */
  OLD_TRANSACTION: 'OLD_TRANSACTION',
  /** The app's peak demand (pool max × instances) against the usable slots. */
  POOL_DEMAND: 'POOL_DEMAND',
  /** The server closes idle sessions the pool still keeps. */
  POOL_IDLE_SESSION_TIMEOUT: 'POOL_IDLE_SESSION_TIMEOUT',
  NO_IDLE_IN_TRANSACTION_TIMEOUT: 'NO_IDLE_IN_TRANSACTION_TIMEOUT',
  NO_STATEMENT_TIMEOUT: 'NO_STATEMENT_TIMEOUT',
  STATEMENT_TIMEOUT_ABOVE_ACQUIRE: 'STATEMENT_TIMEOUT_ABOVE_ACQUIRE',
  NO_APPLICATION_NAME: 'NO_APPLICATION_NAME',
  PGBOUNCER_CLIENTS_WAITING: 'PGBOUNCER_CLIENTS_WAITING',
  PGBOUNCER_CLIENT_USAGE: 'PGBOUNCER_CLIENT_USAGE',
  PGBOUNCER_DATABASE_PAUSED: 'PGBOUNCER_DATABASE_PAUSED',
} as const

const RANK: Record<Severity, number> = {critical: 2, info: 0, warning: 1}

export function finding(severity: Severity, code: keyof typeof FindingCode, message: string, pids: number[] = []): Finding {
  return {severity, code: FindingCode[code], message, pids}
}

/** Most severe first; stable otherwise. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings
    .map((item, index) => ({index, item}))
    .sort((a, b) => RANK[b.item.severity] - RANK[a.item.severity] || a.index - b.index)
    .map(({item}) => item)
}

/** ok unless a warning or critical finding says otherwise; info findings are advice only. */
export function statusOf(findings: readonly Finding[]): Status {
  if (findings.some((item) => item.severity === 'critical')) return 'critical'
  if (findings.some((item) => item.severity === 'warning')) return 'warning'
  return 'ok'
}

/** Nagios / check_postgres: 0 OK, 1 WARNING, 2 CRITICAL (3 UNKNOWN is an error, see base-command). */
export function exitCodeForStatus(status: Status): ExitCodeValue {
  switch (status) {
    case 'ok': {
      return ExitCode.OK
    }
    case 'warning': {
      return ExitCode.WARNING
    }
    case 'critical': {
      return ExitCode.CRITICAL
    }
  }
}

/** `warning` when value ≥ warn, `critical` when ≥ crit, else undefined. */
export function severityForPercent(percent: number, warn: number, crit: number): Severity | undefined {
  if (percent >= crit) return 'critical'
  if (percent >= warn) return 'warning'
  return undefined
}
