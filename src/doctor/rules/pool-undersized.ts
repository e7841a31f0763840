import {poolSizeChecks} from '../pool-size.js'
import type {Rule} from '../types.js'

export const rule: Rule = {
  id: 'pool-undersized',
  defaultSeverity: 'error',
  summary: "A knexfile environment's pool max × instances is below the declared concurrency.",
  checkFile(file, context) {
    return poolSizeChecks(file, context).flatMap((check) =>
      check.concurrency !== undefined && check.demand < check.concurrency
        ? [{message: `${check.label}: pool max ${check.max} × ${check.instancesText} = ${check.demand} connections for a declared concurrency of ${check.concurrency}: ${check.concurrency - check.demand} requests at a time wait for a connection; raise max to ${Math.ceil(check.concurrency / context.instances)} (or put a queue in front)`, node: check.node}]
        : [],
    )
  },
}
