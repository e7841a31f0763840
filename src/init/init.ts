import {CliError, ErrorCode} from '../errors.js'
import {DEFAULT_ENVIRONMENTS, profileOf, type ServerCapacity, SizingError, type SizingInput, type SizingResult, sizePools} from '../sizing/sizing.js'
import {detectProject, type Project} from './detect.js'
import {ciEnvironment, layout, type Part, PARTS, renderFiles} from './files.js'
import {applyPlan, type FileAction, planFiles} from './plan.js'

export interface InitReport {
  dryRun: boolean
  dir: string
  project: Omit<Project, 'dir'>
  parts: Part[]
  sizing: Omit<SizingResult, 'input'> & {input: Omit<SizingInput, 'environments'>}
  created: string[]
  skipped: string[]
  conflicts: string[]
  overwritten: string[]
  actions: FileAction[]
  /** How to wire the pool module into an existing knexfile (never edited). */
  knexfileSnippet: string | null
  nextSteps: string[]
  /** 0 done; 1 conflicts left unwritten. */
  exitCode: 0 | 1
}

/** Detect the project and size its pools. Throws NOT_A_PROJECT / BAD_SIZING (64) or KNEXFILE_* (3). */
export async function prepareInit(dir: string, sizing: Omit<SizingInput, 'environments' | 'server'>, server?: ServerCapacity): Promise<{project: Project; sizing: SizingResult}> {
  const project = await detectProject(dir)
  const environments = project.knexfile && project.knexfile.environments.length > 0 ? project.knexfile.environments : [...DEFAULT_ENVIRONMENTS]
  try {
    return {project, sizing: sizePools({...sizing, environments, server})}
  } catch (error) {
    if (error instanceof SizingError) throw new CliError(ErrorCode.BAD_SIZING, error.message, {cause: error})
    throw error
  }
}

/** The parts `--yes` scaffolds: all but PgBouncer, which only when the demand exceeds the server. */
export function defaultParts(sizing: SizingResult): Part[] {
  return PARTS.filter((part) => part !== 'pgbouncer' || sizing.recommendPgBouncer)
}

export function parseParts(value: string): Part[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean)
  const unknown = names.filter((name) => !(PARTS as readonly string[]).includes(name))
  if (names.length === 0 || unknown.length > 0) {
    throw new CliError(ErrorCode.USAGE, `Expected --only to list parts from ${PARTS.join(', ')}, got \`${value}\``)
  }
  return PARTS.filter((part) => names.includes(part))
}

/** Render, compare with what is on disk, and (unless dryRun) write. */
export async function scaffold(project: Project, sizing: SizingResult, parts: Part[], options: {dryRun: boolean; force: boolean}): Promise<InitReport> {
  const {files, snippet} = await renderFiles(project, sizing, parts)
  const planned = await planFiles(project.dir, files, options)
  const actions = options.dryRun ? planned : await applyPlan(project.dir, files, planned)
  const paths = (kind: FileAction['action']) => actions.filter((action) => action.action === kind).map((action) => action.path)
  const {dir, ...projectInfo} = project
  const {environments: _ignored, ...input} = sizing.input
  const conflicts = paths('conflict')
  return {
    actions,
    conflicts,
    created: paths('create'),
    dir,
    dryRun: options.dryRun,
    exitCode: conflicts.length > 0 ? 1 : 0,
    knexfileSnippet: snippet,
    nextSteps: nextSteps(project, sizing, parts),
    overwritten: paths('overwrite'),
    parts,
    project: projectInfo,
    sizing: {...sizing, input},
    skipped: paths('skip'),
  }
}

function nextSteps(project: Project, sizing: SizingResult, parts: Part[]): string[] {
  const paths = layout(project)
  const steps: string[] = []
  if (parts.includes('pool') && project.knexfile) steps.push(`use ${paths.pool} in ${project.knexfile.file} (snippet below); poolctl never edits an existing knexfile`)
  const environment = ciEnvironment(sizing)
  if ((parts.includes('ci') || parts.includes('tests')) && project.knexfile && profileOf(environment) !== 'test') {
    steps.push(`${project.knexfile.file} has no test environment: CI and the test set-up use '${environment}' (NODE_ENV); add a 'test' one for a database of its own`)
  }
  if (parts.includes('monitoring')) {
    steps.push(`call registerPoolMetrics(db) from ${paths.metrics} and serve /metrics; load ${paths.alerts} into Prometheus and import ${paths.dashboard} into Grafana`)
    steps.push(`run postgres_exporter with --extend.query-path=${paths.exporterQueries}`)
  }
  if (parts.includes('tests')) {
    const how = {
      jest: `globalSetup: './${paths.setup}' in jest.config`,
      mocha: `require: ['./${paths.setup}'] in .mocharc`,
      'node:test': `node --import ./${paths.setup} --test`,
      vitest: `test.globalSetup: ['./${paths.setup}'] in vitest.config`,
    }[project.testRunner]
    steps.push(`load the test set-up: ${how}`)
  }
  if (parts.includes('pgbouncer')) steps.push(`put the role's SCRAM hash into ${paths.userlist} and the database host into ${paths.pgbouncerIni}; install both in /etc/pgbouncer/ (auth_file)`)
  return steps
}
