import ts from 'typescript'

import {poolConfigTargets} from '../ast.js'
import {getProperty, type StaticValue} from '../static-value.js'
import type {Finding, Rule} from '../types.js'

export const rule: Rule = {
  id: 'missing-application-name',
  defaultSeverity: 'warning',
  summary: 'Connections without application_name are anonymous in pg_stat_activity.',
  checkFile(file) {
    const findings: Finding[] = []
    for (const target of poolConfigTargets(file, {allEnvironments: true})) {
      // `new Pool()` with no options is configured by PG* variables, PGAPPNAME included
      if (target.kind !== 'knex' && ts.isNewExpression(target.anchor) && (target.anchor.arguments?.length ?? 0) === 0) continue
      const connection = target.kind === 'knex' ? getProperty(target.config, 'connection')?.value : target.config
      if (connection === undefined || hasApplicationName(connection) !== false) continue
      findings.push({
        message: `${target.label}: connections carry no application_name, so pg_stat_activity (and poolctl inspect) cannot tell them from other services'; set application_name (or ?application_name= in the URL)`,
        node: target.anchor,
      })
    }
    return findings
  },
}

/** true / false, or undefined when the value is not data we can read (an environment variable, a function). */
function hasApplicationName(connection: StaticValue): boolean | undefined {
  if (connection.kind === 'string') return /[?&]application_name=/.test(connection.value as string)
  if (connection.kind !== 'object') return undefined
  if (connection.properties.has('application_name')) return true
  const url = connection.properties.get('connectionString')?.value
  if (url !== undefined) return url.kind === 'string' ? hasApplicationName(url) : undefined
  return connection.open ? undefined : false
}
