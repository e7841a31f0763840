/** What pool-undersized and pool-oversized both compute: per deployed knexfile environment, max × instances. */
import type ts from 'typescript'

import {KNEX_POOL_DEFAULTS} from '../knex/knexfile.js'
import {poolConfigTargets, poolOption} from './ast.js'
import type {RunContext, SourceFileFacts} from './types.js'

export interface PoolSizeCheck {
  label: string
  node: ts.Node
  max: number
  demand: number
  instancesText: string
  concurrency: number | undefined
}

export function poolSizeChecks(file: SourceFileFacts, context: RunContext): PoolSizeCheck[] {
  const checks: PoolSizeCheck[] = []
  for (const target of poolConfigTargets(file)) {
    if (target.environment === undefined) continue // knexfiles only: inline configs have no declared concurrency
    const option = poolOption(target, 'max')
    // A pool we cannot read, or a max from the environment, is left alone rather than guessed.
    if (option === 'unknown' || (option !== 'absent' && option.value.kind !== 'number')) continue
    const max = option === 'absent' ? KNEX_POOL_DEFAULTS.max : Number((option.value as {value: number}).value)
    checks.push({
      concurrency: context.concurrency[target.environment] ?? context.concurrency['*'],
      demand: max * context.instances,
      instancesText: `${context.instances} instance${context.instances === 1 ? '' : 's'}`,
      label: option === 'absent' ? `${target.label} (knex's default max ${max})` : target.label,
      max,
      node: option === 'absent' ? target.anchor : option.node,
    })
  }
  return checks
}
