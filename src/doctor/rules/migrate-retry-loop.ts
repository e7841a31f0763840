import ts from 'typescript'

import {calleeName, calleeObject, callTakingCallback, isFunctionLike, isOnLoopItem} from '../ast.js'
import type {Finding, Rule} from '../types.js'

const RETRY_HELPER = /retry|backoff|attempt/i

export const rule: Rule = {
  id: 'migrate-retry-loop',
  defaultSeverity: 'error',
  summary: 'migrate.latest() retried in a loop or a retry helper instead of letting one migrator run.',
  checkFile(file) {
    const findings: Finding[] = []
    for (const call of file.calls) {
      if (calleeName(call) !== 'latest') continue
      const receiver = calleeObject(call)
      if (receiver === undefined || !(ts.isPropertyAccessExpression(receiver) ? receiver.name.text === 'migrate' : ts.isIdentifier(receiver) && receiver.text === 'migrate')) continue
      const how = retriedBy(call)
      if (how === undefined) continue
      findings.push({
        message: `migrate.latest() retried ${how}: every instance that starts hammers the migration lock, and a retry after a half-applied migration runs it again; run migrations once, before the instances start (a release step or a job), and let the others wait`,
        node: call,
      })
    }
    return findings
  },
}

/** 'in a loop' when a try around the call sits in a loop; 'by retry(...)' when its function is passed to a retry helper. */
function retriedBy(call: ts.CallExpression): string | undefined {
  let insideTry = false
  for (let node: ts.Node = call; node.parent !== undefined; node = node.parent) {
    const parent = node.parent
    if (ts.isTryStatement(parent) && parent.tryBlock === node) insideTry = true
    // one try per tenant (`for (const tenant of tenants) try { await tenant.migrate.latest() } catch …`) is not a retry
    if (insideTry && (ts.isForStatement(parent) || ts.isWhileStatement(parent) || ts.isDoStatement(parent) || ts.isForOfStatement(parent))) return isOnLoopItem(call) ? undefined : 'in a loop'
    if (isFunctionLike(parent)) {
      const helper = callTakingCallback(parent)
      return helper !== undefined && RETRY_HELPER.test(calleeName(helper) ?? '') ? `by ${calleeName(helper)}()` : undefined
    }
  }
  return undefined
}
