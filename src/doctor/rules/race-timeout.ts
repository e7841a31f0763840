import ts from 'typescript'

import {calleeName, isIdentifierNamed, isQueryCall, someNode} from '../ast.js'
import type {Finding, Rule} from '../types.js'

const TIMER_NAME = /^(set)?timeout$|^(delay|sleep|wait|timer|rejectAfter|timeoutAfter)$|Timeout$/i

export const rule: Rule = {
  id: 'race-timeout',
  defaultSeverity: 'error',
  summary: 'Promise.race between a query and a timer: the "timed out" query keeps running and holds its connection.',
  checkFile(file) {
    const findings: Finding[] = []
    for (const call of file.calls) {
      if (calleeName(call) !== 'race' || !ts.isPropertyAccessExpression(call.expression) || !isIdentifierNamed(call.expression.expression, 'Promise')) continue
      const [contenders] = call.arguments
      if (contenders === undefined || !ts.isArrayLiteralExpression(contenders)) continue
      const hasTimer = contenders.elements.some((element) => someNode(element, isTimer))
      const hasQuery = contenders.elements.some((element) => someNode(element, isQueryCall))
      if (!hasTimer || !hasQuery) continue
      findings.push({
        message: 'Promise.race with a timer around a query: when the timer wins, the query keeps running on the server and keeps its connection; set statement_timeout (or pg query_timeout / knex .timeout(ms, {cancel: true})) instead',
        node: call,
      })
    }
    return findings
  },
}

function isTimer(node: ts.Node): boolean {
  if (ts.isIdentifier(node) && node.text === 'setTimeout') return true
  return ts.isCallExpression(node) && TIMER_NAME.test(calleeName(node) ?? '')
}
