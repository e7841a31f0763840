import ts from 'typescript'

import {calleeName, enclosingScope, isIdentifierNamed, someNode} from '../ast.js'
import {skipOuterExpressions} from '../static-value.js'
import type {Finding, Rule} from '../types.js'

const RELEASE_METHODS = new Set(['release', 'releaseConnection', 'end', 'destroy'])

export const rule: Rule = {
  id: 'unreleased-client',
  defaultSeverity: 'error',
  summary: 'A client from pool.connect() / acquireConnection() that is not released in a finally block.',
  checkFile(file) {
    const findings: Finding[] = []
    for (const call of file.calls) {
      const name = calleeName(call)
      const isPoolConnect = name === 'connect' && ts.isPropertyAccessExpression(call.expression) && call.arguments.length === 0
      if (!isPoolConnect && name !== 'acquireConnection') continue
      // `await client.connect()` on a pg.Client returns nothing to release: only a bound result counts.
      const variable = boundVariable(call)
      if (variable === undefined) continue
      const scope = enclosingScope(call)
      if (releasedInFinally(scope, variable) || returned(scope, variable)) continue
      findings.push({
        message: `\`${variable}\` from \`${call.expression.getText()}()\` is not released in a \`finally\`: when a query throws, the connection never goes back and the pool runs dry; use try { … } finally { ${variable}.release() } (or pool.query for single statements)`,
        node: call,
      })
    }
    return findings
  },
}

/** `const client = await pool.connect()` or `client = await pool.connect()` → 'client' (a promise kept in a variable is not a client). */
function boundVariable(call: ts.CallExpression): string | undefined {
  let node: ts.Node = call
  let awaited = false
  while (ts.isAwaitExpression(node.parent) || ts.isParenthesizedExpression(node.parent) || ts.isAsExpression(node.parent)) {
    awaited ||= ts.isAwaitExpression(node.parent)
    node = node.parent
  }
  if (!awaited) return undefined
  const parent = node.parent
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isIdentifier(parent.left)) return parent.left.text
  return undefined
}

function releasedInFinally(scope: ts.Node, variable: string): boolean {
  return someNode(scope, (node) => {
    if (!ts.isTryStatement(node) || node.finallyBlock === undefined) return false
    return someNode(node.finallyBlock, (inner) => {
      if (!ts.isCallExpression(inner)) return false
      const callee = inner.expression
      const onVariable = ts.isPropertyAccessExpression(callee) && RELEASE_METHODS.has(callee.name.text) && isIdentifierNamed(skipOuterExpressions(callee.expression), variable)
      const withVariable = RELEASE_METHODS.has(calleeName(inner) ?? '') && inner.arguments.some((argument) => isIdentifierNamed(argument, variable))
      return onVariable || withVariable
    })
  })
}

/** Handing the client to the caller moves the duty to release it there. */
function returned(scope: ts.Node, variable: string): boolean {
  return someNode(scope, (node) => ts.isReturnStatement(node) && node.expression !== undefined && isIdentifierNamed(skipOuterExpressions(node.expression), variable), {enterFunctions: false})
}
