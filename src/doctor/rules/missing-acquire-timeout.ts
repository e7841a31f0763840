import {poolConfigTargets, poolOption} from '../ast.js'
import {getProperty} from '../static-value.js'
import type {Finding, Rule} from '../types.js'

export const rule: Rule = {
  id: 'missing-acquire-timeout',
  defaultSeverity: 'error',
  summary: 'A pool with no acquire timeout: requests wait for a connection for a minute (knex) or forever (pg).',
  checkFile(file) {
    const findings: Finding[] = []
    for (const target of poolConfigTargets(file)) {
      if (target.kind === 'knex') {
        const option = poolOption(target, 'acquireTimeoutMillis')
        if (option !== 'absent' || getProperty(target.config, 'acquireConnectionTimeout') !== undefined) continue
        findings.push({
          message: `${target.label} sets no acquire timeout (acquireConnectionTimeout or pool.acquireTimeoutMillis): when the pool is exhausted, requests queue for knex's default 60 s; set one shorter than your request timeout, e.g. 10000`,
          node: target.anchor,
        })
      } else if (target.kind === 'pg-pool') {
        const option = poolOption(target, 'connectionTimeoutMillis')
        if (option === 'unknown') continue
        if (option !== 'absent' && !(option.value.kind === 'number' && option.value.value === 0)) continue
        findings.push({
          message: `${target.label} has no connectionTimeoutMillis${option === 'absent' ? '' : ' (0 = none)'}: when the pool is exhausted or the server does not answer, connect() and query() wait forever; set e.g. connectionTimeoutMillis: 5000`,
          node: option === 'absent' ? target.anchor : option.node,
        })
      }
    }
    return findings
  },
}
