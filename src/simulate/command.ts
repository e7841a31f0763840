/** What commands/simulate.ts needs between flag parsing and the run: the configurations and the database. */
import type {ConnectionSettings} from '../pg/connection-settings.js'
import {FIELDS, type RawConfig} from './config.js'
import type {SimulateOutput, SimulateRequest} from './run.js'
import {configsFrom, readScenario} from './scenario.js'

export interface SimulationPlan extends Pick<SimulateRequest, 'configs' | 'compare' | 'database' | 'reportFile' | 'metricsPort'> {
  interactive: boolean
  render(output: SimulateOutput): Promise<string>
}

/**
 * A connection counts as given by --url, --knexfile, DATABASE_URL or PGHOST/PGDATABASE; otherwise
 * database mode starts the embedded server.
 */
export async function prepareSimulation(
  flags: Record<string, unknown>,
  context: {connectionSettings: () => Promise<ConnectionSettings>; env?: NodeJS.ProcessEnv},
): Promise<SimulationPlan> {
  const env = context.env ?? process.env
  const file = typeof flags.scenario === 'string' ? await readScenario(flags.scenario) : undefined
  const fromFlags: RawConfig = {}
  for (const field of FIELDS) if (flags[field] !== undefined && !(field === 'virtual' && flags[field] === false)) fromFlags[field] = flags[field]
  const {configs, varied} = configsFrom(file, fromFlags, flags.scenario as string | undefined)
  const given = flags.url !== undefined || flags.knexfile !== undefined || Boolean(env.DATABASE_URL) || Boolean(env.PGHOST) || Boolean(env.PGDATABASE)
  let database: SimulateRequest['database']
  if (configs[0].mode === 'database' && given) {
    const settings = await context.connectionSettings()
    const {toPgClientConfig} = await import('../pg/connection-settings.js')
    const client = toPgClientConfig(settings, {applicationNameSuffix: 'simulate'})
    // createPgPool copies the config, which drops the non-enumerable password: hand it over explicitly.
    database = {client: {...client, password: client.password}, settings}
  }
  const {isInteractiveTerminal} = await import('../ui/terminal.js')
  const values = varied === undefined ? undefined : String({...file, ...fromFlags}[varied]).split(',').map((value) => value.trim())
  return {
    configs,
    compare: varied === undefined ? undefined : {field: varied, values: values!},
    database,
    reportFile: flags.report as string | undefined,
    metricsPort: flags['metrics-port'] as number | undefined,
    interactive: isInteractiveTerminal({stdout: process.stdout, stdin: process.stdin}),
    async render(output) {
      const [{renderTable}, {renderComparison, renderReport}] = await Promise.all([import('../render/table.js'), import('./report.js')])
      if ('runs' in output) return renderComparison(output.runs, output.compare.field, output.compare.values, renderTable)
      return renderReport(output, renderTable)
    },
  }
}
