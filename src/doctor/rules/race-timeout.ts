import ts from 'typescript'

import {calleeName, calleeObject, enclosingScope, isIdentifierNamed, isQueryCall, someNode} from '../ast.js'
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
      // `const timeout = new Promise(…setTimeout…); Promise.race([query, timeout])`: look at what a name holds too
      const contents = contenders.elements.map((element) => (ts.isIdentifier(element) ? localInitializer(call, element.text) ?? element : element))
      const hasTimer = contents.some((element) => someNode(element, isTimer))
      const hasQuery = contents.some((element) => someNode(element, isQueryCall))
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
  if (!ts.isCallExpression(node) || !TIMER_NAME.test(calleeName(node) ?? '')) return false
  // Not timers: AbortSignal.timeout() (a signal, it cancels) and knex's builder.timeout(ms, {cancel: true})
  const receiver = calleeObject(node)
  return receiver === undefined || !(isIdentifierNamed(receiver, 'AbortSignal') || someNode(receiver, isQueryCall))
}

/** The initializer of `const name = …` in the function around `call` (not in nested functions). */
function localInitializer(call: ts.Node, name: string): ts.Expression | undefined {
  let initializer: ts.Expression | undefined
  someNode(enclosingScope(call), (node) => {
    if (ts.isVariableDeclaration(node) && isIdentifierNamed(node.name, name) && node.initializer !== undefined) initializer = node.initializer
    return initializer !== undefined
  }, {enterFunctions: false})
  return initializer
}
