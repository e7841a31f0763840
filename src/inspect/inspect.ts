/**
 * `poolctl inspect` as a library: snapshot → report (data) → renderers. The command only parses flags
 * and calls these.
 */
import type {Logger} from 'pino'

import type {ConnectionSettings} from '../pg/connection-settings.js'
import {analysePostgres} from './analyse.js'
import {analysePgBouncer} from './pgbouncer.js'
import type {AppPool} from './pool.js'
import {renderPrometheus} from './render/prometheus.js'
import {renderText} from './render/text.js'
import {Inspector, type Snapshot} from './snapshot.js'
import type {InspectReport, Thresholds} from './types.js'

export type OutputFormat = 'json' | 'prometheus' | 'table'
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'prometheus']

export interface ReportContext {
  target: string
  thresholds: Thresholds
  pool?: AppPool
}

export function analyse(snapshot: Snapshot, context: ReportContext): InspectReport {
  return snapshot.kind === 'pgbouncer' ? analysePgBouncer(snapshot, context) : analysePostgres(snapshot, context)
}

/** Take a report over `inspector`'s connection (kept open for the next one). */
export async function takeReport(inspector: Inspector, context: Omit<ReportContext, 'target'>): Promise<InspectReport> {
  return analyse(await inspector.snapshot(), {...context, target: inspector.settings.displayUrl})
}

/** One snapshot over one connection, closed afterwards. */
export async function inspectOnce(
  settings: ConnectionSettings,
  context: Omit<ReportContext, 'target'> & {logger?: Logger},
): Promise<InspectReport> {
  const inspector = new Inspector(settings, {logger: context.logger})
  try {
    return await takeReport(inspector, context)
  } finally {
    await inspector.close()
  }
}

export function renderReport(report: InspectReport, format: OutputFormat): string {
  switch (format) {
    case 'json': {
      return JSON.stringify(report, null, 2)
    }
    case 'prometheus': {
      return renderPrometheus(report).trimEnd()
    }
    case 'table': {
      return renderText(report)
    }
  }
}

export {exitCodeForStatus} from './findings.js'

/** `--watch`: refresh every `intervalSeconds` over one connection until the user quits. */
export async function watch(
  settings: ConnectionSettings,
  context: Omit<ReportContext, 'target'> & {intervalSeconds: number; logger?: Logger},
): Promise<void> {
  const inspector = new Inspector(settings, {logger: context.logger})
  try {
    const {runWatch} = await import('./watch/facade.js')
    await runWatch({
      intervalSeconds: context.intervalSeconds,
      refresh: () => takeReport(inspector, context),
      target: settings.displayUrl,
    })
  } finally {
    await inspector.close()
  }
}
