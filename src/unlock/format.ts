import {renderTable} from '../render/table.js'
import type {Holder, OtherToolLock, Session, UnlockReport} from './types.js'

/** The human report of `poolctl unlock-migrations`: state, evidence, plan, action. Built from the --json data. */

const PROOF_TEXT: Record<UnlockReport['proof'], string> = {
  catalog: 'no such table',
  'migration-activity': 'is_locked = 1 and a session is doing migration work',
  'no-live-holder-found': 'no live holder found (not provable from Postgres alone)',
  'row-count': 'knex needs exactly one row',
  'row-lock': 'a live transaction holds the lock row (FOR UPDATE NOWAIT → 55P03)',
  tracking: 'recorded by --track',
  value: 'is_locked = 0 and no transaction holds the row',
}

export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '-'
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`
}

function oneLine(text: string | null, max = 60): string {
  if (!text) return ''
  const flat = text.replaceAll(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

function holderTable(title: string, holders: readonly Holder[]): string {
  return renderTable(
    ['pid', 'why', 'application', 'user', 'client', 'state', 'xact age', 'last query'],
    holders.map((holder) => [
      holder.pid,
      oneLine(holder.reason, 40),
      holder.applicationName,
      holder.user,
      holder.client,
      holder.state,
      formatAge(holder.xactAgeSeconds),
      oneLine(holder.query, 40),
    ]),
    {numeric: [0], title},
  )
}

function sessionTable(title: string, sessions: readonly Session[]): string {
  return renderTable(
    ['pid', 'application', 'user', 'client', 'state', 'for', 'xact age', 'last query'],
    sessions.map((session) => [
      session.pid,
      session.applicationName,
      session.user,
      session.client,
      session.state,
      formatAge(session.stateAgeSeconds),
      formatAge(session.xactAgeSeconds),
      oneLine(session.query, 48),
    ]),
    {numeric: [0], title},
  )
}

function describeSession(session: Session): string {
  const who = [session.applicationName || 'no application_name', session.user && session.client ? `${session.user}@${session.client}` : session.user]
  const state = session.state ? `${session.state} for ${formatAge(session.stateAgeSeconds)}` : null
  return [...who, state].filter(Boolean).join(', ')
}

function otherToolLines(lock: OtherToolLock): string[] {
  const what = lock.kind === 'advisory' ? `advisory lock ${lock.key} (${lock.variant})` : `${lock.lockTable}`
  const age = lock.lockAgeSeconds === undefined || lock.lockAgeSeconds === null ? '' : ` for ${formatAge(lock.lockAgeSeconds)}`
  return [
    `  ${lock.tool}: ${lock.state.toUpperCase()}${age}, ${what}`,
    ...lock.holders.map((holder) => `    holder pid ${holder.pid}: ${describeSession(holder)}`),
    ...lock.waiters.map((waiter) => `    waiting pid ${waiter.pid}: ${describeSession(waiter)}`),
    ...lock.notes.map((note) => `    - ${note}`),
  ]
}

export interface FormatOptions {
  /** The diagnosis was already shown (before the confirmation question): print only the outcome. */
  outcomeOnly?: boolean
}

export function formatReport(report: UnlockReport, options: FormatOptions = {}): string {
  const out = options.outcomeOnly ? [] : formatDiagnosis(report)
  if (report.trackingChange) out.push(`Tracking: ${report.trackingChange.result}`)
  if (report.plan.length > 0 && !options.outcomeOnly) {
    out.push(report.action === 'would-release' ? 'Would do (--dry-run, nothing changed):' : 'Plan:')
    report.plan.forEach((step, index) => out.push(`  ${index + 1}. ${step}`))
  }
  out.push(actionLine(report))
  return out.join('\n')
}

/** The diagnosis and plan, shown before poolctl asks for confirmation. */
export function formatPreview(report: UnlockReport, plan: readonly string[]): string {
  return [...formatDiagnosis(report), 'Plan:', ...plan.map((step, index) => `  ${index + 1}. ${step}`)].join('\n')
}

function formatDiagnosis(report: UnlockReport): string[] {
  const out: string[] = []
  const rows = rowsText(report.rowCount)
  const locked = report.rows.length === 1 ? `, is_locked = ${report.rows[0].isLocked}` : ''
  out.push(`knex migration lock: ${report.state.toUpperCase()}`)
  const fields: Array<[string, string]> = [
    ['table', `${report.qualifiedLockTable} (database ${report.database}${rows}${locked})`],
    ['evidence', PROOF_TEXT[report.proof]],
  ]
  if (report.state !== 'missing') {
    const record = report.tracking.record
    fields.push([
      'tracking',
      report.tracking.installed
        ? record
          ? `installed; last is_locked = 1 by pid ${record.pid} (${record.applicationName || 'no application_name'}, ${record.client}) at ${record.lockedAt}${
              record.matchesCurrentLock ? '' : ' (not the current lock)'
            }`
          : 'installed; nothing recorded yet'
        : 'not installed (poolctl unlock-migrations --track)',
    ])
  }
  if (report.latestMigration) {
    const latest = report.latestMigration
    fields.push(['latest', `${latest.name} at ${latest.migrationTime ?? '?'} (${formatAge(latest.ageSeconds)} ago); ${latest.applied} applied`])
  }
  const width = Math.max(...fields.map(([label]) => label.length))
  for (const [label, value] of fields) out.push(`  ${label.padEnd(width)}  ${value}`)
  for (const note of report.notes) out.push(`  - ${note}`)
  if (report.holders.length > 0) out.push(holderTable('Holder:', report.holders))
  if (report.waiters.length > 0) out.push(holderTable('Waiting behind it:', report.waiters))
  if (report.otherSessions.length > 0) out.push(sessionTable('Other sessions of the same role in this database:', report.otherSessions))

  const found = report.otherTools
  if (found.length === 0) {
    out.push(`Other migration tools: no lock held (checked ${report.checkedTools.join(', ')})`)
  } else {
    out.push('Other migration tools:')
    for (const lock of found) out.push(...otherToolLines(lock))
  }
  return out
}

function rowsText(rows: number | null): string {
  return rows === null ? '' : `, ${rows} row${rows === 1 ? '' : 's'}`
}

function actionLine(report: UnlockReport): string {
  const line = actionText(report)
  return report.waitedSeconds > 0 ? `${line} (waited ${report.waitedSeconds} s)` : line
}

function actionText(report: UnlockReport): string {
  switch (report.action) {
    case 'none': {
      return `Action: none (${report.state === 'missing' ? 'no lock table' : report.state === 'unlocked' ? 'nothing to unlock' : 'nothing to do'})`
    }
    case 'released': {
      return `Action: released. ${report.qualifiedLockTable} is now ${report.stateAfter}${rowsText(report.rowsAfter)}`
    }
    case 'terminated': {
      return `Action: terminated backend ${report.terminated?.pid}. ${report.qualifiedLockTable} is now ${report.stateAfter}${rowsText(report.rowsAfter)}`
    }
    case 'would-release': {
      return 'Action: none (--dry-run)'
    }
    case 'refused': {
      return `Action: refused [${report.reason?.code}] ${report.reason?.message ?? ''}`
    }
  }
}
