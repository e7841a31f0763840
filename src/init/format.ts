import {renderTable} from '../render/table.js'
import type {InitReport} from './init.js'

const VERBS = {conflict: 'conflict', create: 'create', overwrite: 'overwrite', skip: 'unchanged'} as const

/** The human report: project, sizing with its arithmetic, then every file action. */
export function formatInitReport(report: InitReport, options: {diff: boolean}): string {
  const {project, sizing} = report
  const language = `${project.esm ? 'ESM' : 'CommonJS'}, ${project.typescript ? 'TypeScript' : 'JavaScript'}, ${project.testRunner}`
  const knexfile = project.knexfile ? `${project.knexfile.file}${project.knexfile.environments.length > 0 ? ` (${project.knexfile.environments.join(', ')})` : ''}` : 'no knexfile'
  const out = [`poolctl init ${report.dir}${report.dryRun ? ' (dry run: nothing written)' : ''}`, `  project   ${project.name}: ${language}; ${knexfile}; ${project.workflows.length} workflow(s)`, '']

  const configured = project.knexfile?.poolMax ?? {}
  out.push(
    renderTable(
      ['environment', 'min', 'max', 'acquireTimeoutMillis', 'idleTimeoutMillis', 'reapIntervalMillis', 'createTimeoutMillis', 'max now'],
      sizing.environments.map((env) => [env.environment, env.min, env.max, env.acquireTimeoutMillis, env.idleTimeoutMillis, env.reapIntervalMillis, env.createTimeoutMillis, configured[env.environment] ?? configured['*'] ?? '-']),
      {numeric: [1, 2, 3, 4, 5, 6, 7], title: 'Pool sizing (per instance)'},
    ),
  )
  for (const line of sizing.arithmetic) out.push(`  ${line}`)
  const production = sizing.environments.find((env) => env.profile === 'production')
  const now = production ? (configured[production.environment] ?? configured['*']) : undefined
  if (now !== undefined && production) {
    const instances = sizing.input.instances
    out.push(`  configured now: ${production.environment} pool max ${now} × ${instances} instance${instances === 1 ? '' : 's'} = ${now * instances} connections; needed at peak: ${sizing.demand}`)
  }
  if (sizing.recommendPgBouncer) {
    out.push(
      report.parts.includes('pgbouncer')
        ? '  PgBouncer recommended: scaffolded in deploy/pgbouncer/ (transaction pooling in front of the server)'
        : '  PgBouncer recommended: poolctl init --only pgbouncer scaffolds pgbouncer.ini and a userlist template',
    )
  }
  out.push('')

  const visible = report.actions.filter((action) => action.action !== 'skip')
  const unchanged = report.actions.length - visible.length
  if (visible.length === 0) out.push(`Nothing to do: ${unchanged} file(s) already up to date.`)
  else {
    out.push(report.dryRun ? 'Files (would be written)' : 'Files')
    for (const action of visible) {
      const note =
        action.action !== 'conflict'
          ? action.secret
            ? '  (mode 0600)'
            : ''
          : action.reason
            ? `  (${action.reason}: not written, even with --force)`
            : '  (exists and differs: not overwritten; --diff to see, --force to overwrite)'
      out.push(`  ${VERBS[action.action].padEnd(9)} ${action.path}${note}`)
    }
    if (unchanged > 0) out.push(`  ${unchanged} file(s) unchanged`)
  }
  if (options.diff) for (const action of report.actions) if (action.diff) out.push('', action.diff.trimEnd())
  if (report.nextSteps.length > 0 && visible.some((action) => action.action !== 'conflict')) {
    out.push('', 'Next steps', ...report.nextSteps.map((step) => `  - ${step}`))
  }
  if (report.knexfileSnippet) out.push('', report.knexfileSnippet.trimEnd())
  return out.join('\n')
}
