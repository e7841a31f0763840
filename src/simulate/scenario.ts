/** Scenario files: JSON or YAML objects whose keys are simulate's flag names (a saved command line). */
import {readFile} from 'node:fs/promises'
import {extname} from 'node:path'

import {CliError, ErrorCode} from '../errors.js'
import {ConfigError, FIELDS, type RawConfig, buildConfigs} from './config.js'

export async function readScenario(path: string): Promise<RawConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new CliError(ErrorCode.BAD_SCENARIO, `cannot read scenario ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  let data: unknown
  try {
    if (extname(path).toLowerCase() === '.json') data = JSON.parse(text)
    else data = (await import('yaml')).parse(text)
  } catch (error) {
    throw new CliError(ErrorCode.BAD_SCENARIO, `scenario ${path} is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${oneLine((error as Error).message)}`)
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new CliError(ErrorCode.BAD_SCENARIO, `scenario ${path} must be an object of fields (${FIELDS.slice(0, 4).join(', ')}, …)`)
  }
  return data as RawConfig
}

/** Flags win over the file; problems are reported against the file when it is the source. */
export function configsFrom(file: RawConfig | undefined, flags: RawConfig, path: string | undefined): ReturnType<typeof buildConfigs> {
  try {
    return buildConfigs({...file, ...flags})
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const inFile = path !== undefined && file !== undefined
    const where = inFile ? `scenario ${path}: ` : ''
    throw new CliError(inFile ? ErrorCode.BAD_SCENARIO : ErrorCode.USAGE, `${where}${error.problems.join('; ')}`)
  }
}

function oneLine(text: string): string {
  return text.split('\n')[0]
}
