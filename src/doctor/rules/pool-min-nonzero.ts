import {poolConfigTargets, poolOption} from '../ast.js'
import {KNEX_POOL_DEFAULTS} from '../../knex/knexfile.js'
import type {Finding, Rule} from '../types.js'

export const rule: Rule = {
  id: 'pool-min-nonzero',
  defaultSeverity: 'warning',
  summary: 'A pool min above 0 holds idle connections open in every instance, whether there is load or not.',
  checkFile(file, context) {
    const findings: Finding[] = []
    const perInstances = (min: number): string => (context.instances > 1 ? ` (${min * context.instances} across ${context.instances} instances)` : '')
    for (const target of poolConfigTargets(file)) {
      if (target.kind === 'pg-client') continue
      const option = poolOption(target, 'min')
      if (option === 'unknown') continue
      if (option === 'absent') {
        if (target.kind !== 'knex') continue // pg.Pool's default min is 0
        const min = KNEX_POOL_DEFAULTS.min
        findings.push({message: `${target.label} sets no pool.min: knex's default min ${min} keeps ${min} connections open per instance${perInstances(min)} even when idle, and they are the ones a firewall or the server cuts; set pool: {min: 0}`, node: target.anchor})
      } else if (option.value.kind === 'number' && (option.value.value as number) > 0) {
        const min = option.value.value as number
        findings.push({message: `${target.label}: pool min ${min} keeps ${min} connections open per instance${perInstances(min)} even when idle; set min: 0`, node: option.node})
      }
    }
    return findings
  },
}
