/**
 * The state of `poolctl inspect --watch`, with no React in it: the renderers (ink or plain text) only
 * draw it. Transitions are pure functions, tested without rendering.
 */
import type {InspectReport} from '../types.js'

/** Utilisation samples kept for the trend line. */
export const HISTORY_LENGTH = 30

export interface WatchState {
  target: string
  intervalSeconds: number
  /** The last report that arrived (kept while later refreshes fail). */
  report: InspectReport | undefined
  updatedAt: Date | undefined
  /** Successful refreshes so far. */
  refreshes: number
  /** Why the last refresh failed; undefined after a success. */
  error: string | undefined
  errorAt: Date | undefined
  /** Connection use in % of usable slots (PgBouncer: of max_client_conn), oldest first. */
  history: number[]
}

export function initialWatchState(options: {target: string; intervalSeconds: number}): WatchState {
  return {
    error: undefined,
    errorAt: undefined,
    history: [],
    intervalSeconds: options.intervalSeconds,
    refreshes: 0,
    report: undefined,
    target: options.target,
    updatedAt: undefined,
  }
}

export function usedPercentOf(report: InspectReport): number {
  return report.kind === 'pgbouncer' ? report.totals.clientUsedPercent : report.totals.usedPercent
}

export function withReport(state: WatchState, report: InspectReport, at: Date): WatchState {
  return {
    ...state,
    error: undefined,
    errorAt: undefined,
    history: [...state.history, usedPercentOf(report)].slice(-HISTORY_LENGTH),
    refreshes: state.refreshes + 1,
    report,
    updatedAt: at,
  }
}

export function withError(state: WatchState, message: string, at: Date): WatchState {
  return {...state, error: message, errorAt: at}
}

/** True when the report on screen is older than two intervals (refreshes are failing). */
export function isStale(state: WatchState, now: Date): boolean {
  return state.updatedAt !== undefined && now.getTime() - state.updatedAt.getTime() > 2 * state.intervalSeconds * 1000
}
