import {ErrorCode, CliError} from '../errors.js'
import type {Thresholds} from './types.js'

/**
 * Defaults, from the tools engineers already trust (see docs/inspect.md):
 * connection use warns at 80 % and is critical at 95 % of the usable slots (postgres-mixin,
 * check_postgres), a query is long after 60 s (PgHero), idle in transaction after 30 s, and a lock
 * wait is worth reporting after 10 s (check_postgres waits 1–2 min; a pool's acquire timeout is
 * usually far shorter, so poolctl speaks up sooner).
 */
export const DEFAULT_THRESHOLDS: Thresholds = {
  critPercent: 95,
  idleInTransactionSeconds: 30,
  lockWaitSeconds: 10,
  longQuerySeconds: 60,
  warnPercent: 80,
}

/** `--watch` refresh interval. */
export const DEFAULT_INTERVAL_SECONDS = 2
export const MIN_INTERVAL_SECONDS = 1

/** Characters of a session's query kept in the report (the table cuts further). */
export const QUERY_TEXT_LIMIT = 200

export interface ThresholdInput {
  warnPercent?: number
  critPercent?: number
  longQueryMillis?: number
  idleInTransactionMillis?: number
  lockWaitMillis?: number
}

function usage(message: string): CliError {
  return new CliError(ErrorCode.USAGE, message)
}

/** Validate threshold flags eagerly, naming the bad value; fill in the defaults. */
export function resolveThresholds(input: ThresholdInput = {}): Thresholds {
  const warnPercent = input.warnPercent ?? DEFAULT_THRESHOLDS.warnPercent
  const critPercent = input.critPercent ?? DEFAULT_THRESHOLDS.critPercent
  for (const [flag, value] of [
    ['--warn', warnPercent],
    ['--crit', critPercent],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0 || value > 100) {
      throw usage(`Expected ${flag} to be a percentage above 0 and at most 100, got \`${value}\``)
    }
  }
  if (warnPercent >= critPercent) {
    throw usage(`Expected --warn (${warnPercent}) to be below --crit (${critPercent})`)
  }
  const seconds = (millis: number | undefined, fallback: number) => (millis === undefined ? fallback : millis / 1000)
  return {
    critPercent,
    idleInTransactionSeconds: seconds(input.idleInTransactionMillis, DEFAULT_THRESHOLDS.idleInTransactionSeconds),
    lockWaitSeconds: seconds(input.lockWaitMillis, DEFAULT_THRESHOLDS.lockWaitSeconds),
    longQuerySeconds: seconds(input.longQueryMillis, DEFAULT_THRESHOLDS.longQuerySeconds),
    warnPercent,
  }
}

/** `--interval` in seconds: a number, at least 1. */
export function parseIntervalSeconds(input: string): number {
  const value = Number(input)
  if (input.trim() === '' || !Number.isFinite(value) || value < MIN_INTERVAL_SECONDS) {
    throw usage(`Expected --interval to be a number of seconds from ${MIN_INTERVAL_SECONDS} up, got \`${input}\``)
  }
  return value
}

/** `--instances`: a whole number from 1 up. */
export function parseInstances(input: string): number {
  const value = Number(input)
  if (!/^\s*\d+\s*$/.test(input) || !Number.isSafeInteger(value) || value < 1) {
    throw usage(`Expected --instances to be a whole number from 1 up (processes × replicas), got \`${input}\``)
  }
  return value
}

/** `--warn` / `--crit`: a percentage, `80` or `80%`. */
export function parsePercent(input: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(input)
  if (!match) throw usage(`Expected --${flag} to be a percentage such as 80 or 80%, got \`${input}\``)
  return Number(match[1])
}
