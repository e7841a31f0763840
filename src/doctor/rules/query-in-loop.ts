import ts from 'typescript'

import {calleeName, callTakingCallback, isFunctionLike, isOnLoopItem, isQueryCall} from '../ast.js'
import type {Finding, Rule} from '../types.js'

const ARRAY_CALLBACKS = new Set(['forEach', 'map', 'flatMap', 'reduce', 'filter', 'some', 'every'])

export const rule: Rule = {
  id: 'query-in-loop',
  defaultSeverity: 'warning',
  summary: 'An awaited query inside a loop over rows: one round trip per row (N+1).',
  checkFile(file) {
    const findings: Finding[] = []
    for (const call of file.calls) {
      if (!isQueryCall(call) || !isAwaited(call)) continue
      // A chained builder (db('t').where(...).first()) is reported once, at its outermost call.
      if (ts.isPropertyAccessExpression(call.parent) && ts.isCallExpression(call.parent.parent)) continue
      const loop = loopAround(call)
      if (loop === undefined || isOnLoopItem(call)) continue
      findings.push({
        message: `awaited query inside ${loop}: one round trip per item (N+1), each holding a connection; fetch the rows in one query (where id = any($1), whereIn) or batch the writes`,
        node: call,
      })
    }
    return findings
  },
}

function isAwaited(call: ts.CallExpression): boolean {
  let node: ts.Node = call
  while (ts.isParenthesizedExpression(node.parent) || ts.isAsExpression(node.parent)) node = node.parent
  return ts.isAwaitExpression(node.parent)
}

/** A for/for-of/for-in loop around the call (not a polling while loop), or an array callback such as rows.forEach(async …). */
function loopAround(call: ts.CallExpression): string | undefined {
  for (let node: ts.Node = call; node.parent !== undefined; node = node.parent) {
    const parent = node.parent
    if ((ts.isForOfStatement(parent) || ts.isForInStatement(parent) || ts.isForStatement(parent)) && parent.statement === node) {
      return ts.isForOfStatement(parent) ? `a for…of loop over \`${parent.expression.getText()}\`` : 'a for loop'
    }
    if (isFunctionLike(parent)) {
      const iteration = callTakingCallback(parent)
      return iteration !== undefined && ARRAY_CALLBACKS.has(calleeName(iteration) ?? '') ? `a .${calleeName(iteration)}() callback` : undefined
    }
  }
  return undefined
}
