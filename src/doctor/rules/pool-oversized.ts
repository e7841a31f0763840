import {poolSizeChecks} from '../pool-size.js'
import type {Rule} from '../types.js'

export const rule: Rule = {
  id: 'pool-oversized',
  defaultSeverity: 'error',
  summary: "A knexfile environment's pool max × instances exceeds the server's usable connection slots.",
  checkFile(file, context) {
    const slots = context.usableSlots
    if (slots === undefined) return []
    return poolSizeChecks(file, context).flatMap((check) =>
      check.demand > slots
        ? [{message: `${check.label}: pool max ${check.max} × ${check.instancesText} = ${check.demand} connections, but the server has ${slots} usable slots (${context.usableSlotsSource}): at peak, connections fail with "too many clients"; lower max to ${Math.max(1, Math.floor(slots / context.instances))} or put PgBouncer in front`, node: check.node}]
        : [],
    )
  },
}
