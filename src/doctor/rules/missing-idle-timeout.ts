import {poolConfigTargets, poolOption} from '../ast.js'
import type {Finding, Rule} from '../types.js'

export const rule: Rule = {
  id: 'missing-idle-timeout',
  defaultSeverity: 'warning',
  summary: 'A pool that does not say when idle connections are closed (or never closes them).',
  checkFile(file) {
    const findings: Finding[] = []
    for (const target of poolConfigTargets(file)) {
      if (target.kind === 'pg-client') continue
      const option = poolOption(target, 'idleTimeoutMillis')
      if (option === 'unknown') continue
      if (option === 'absent') {
        const implicit = target.kind === 'knex' ? "tarn's implicit 30 s" : "pg's implicit 10 s"
        findings.push({
          message: `${target.label} sets no idleTimeoutMillis: idle connections live for ${implicit}, unrelated to the idle timeouts of the server, PgBouncer or a load balancer that cut them silently; set it explicitly below those, e.g. idleTimeoutMillis: 10000`,
          node: target.anchor,
        })
      } else if (target.kind === 'pg-pool' && option.value.kind === 'number' && option.value.value === 0) {
        findings.push({message: `${target.label} sets idleTimeoutMillis: 0: idle connections are never closed and hold server slots forever; set e.g. idleTimeoutMillis: 10000`, node: option.node})
      }
    }
    return findings
  },
}
