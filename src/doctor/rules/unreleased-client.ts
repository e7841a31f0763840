import ts from 'typescript'

import {calleeName, enclosingScope, isIdentifierNamed, someNode} from '../ast.js'
import {skipOuterExpressions} from '../static-value.js'
import type {Finding, Rule} from '../types.js'

const RELEASE_METHODS = new Set(['release', 'releaseConnection', 'end', 'destroy'])

export const rule: Rule = {
  id: 'unreleased-client',
  defaultSeverity: 'error',
  summary: 'A client from pool.connect() / acquireConnection() that is not released in a finally block (or a promise .finally()).',
  checkFile(file) {
    const findings: Finding[] = []
    for (const call of file.calls) {
      const name = calleeName(call)
      const isPoolConnect = name === 'connect' && ts.isPropertyAccessExpression(call.expression) && call.arguments.length === 0
      if (!isPoolConnect && name !== 'acquireConnection') continue
      // `await client.connect()` on a pg.Client returns nothing to release: only a bound result counts.
      const callback = thenCallback(call)
      const variable = callback?.variable ?? boundVariable(call)
      if (variable === undefined) continue
      const scope = callback?.body ?? enclosingScope(call)
      if (!isPoolCheckout(call, name, scope, variable) || releasedInFinally(scope, variable) || returned(scope, variable)) continue
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

/**
 * `connect()` is a common name (`await createClient().connect()` in redis): a checkout is
 * `acquireConnection()`, a receiver named like a pool, or a client the code releases somewhere.
 */
function isPoolCheckout(call: ts.CallExpression, name: string | undefined, scope: ts.Node, variable: string): boolean {
  if (name === 'acquireConnection') return true
  const receiver = ts.isPropertyAccessExpression(call.expression) ? call.expression.expression : undefined
  if (receiver !== undefined && /pool/i.test(receiver.getText())) return true
  return someNode(scope, (node) => releases(node, variable))
}

/** `pool.connect().then((client) => …)` → the callback's body and its client parameter. */
function thenCallback(call: ts.CallExpression): {variable: string; body: ts.Node} | undefined {
  const access = call.parent
  if (!ts.isPropertyAccessExpression(access) || access.name.text !== 'then' || !ts.isCallExpression(access.parent)) return undefined
  const [callback] = access.parent.arguments
  if (callback === undefined || !(ts.isArrowFunction(callback) || ts.isFunctionExpression(callback))) return undefined
  const [parameter] = callback.parameters
  return parameter !== undefined && ts.isIdentifier(parameter.name) ? {body: callback.body, variable: parameter.name.text} : undefined
}

/** A release in a `finally` block, or in a promise's `.finally(() => …)`: both run whether the work threw or not. */
function releasedInFinally(scope: ts.Node, variable: string): boolean {
  return someNode(scope, (node) => {
    if (ts.isTryStatement(node)) return node.finallyBlock !== undefined && someNode(node.finallyBlock, (inner) => releases(inner, variable))
    return ts.isCallExpression(node) && calleeName(node) === 'finally' && node.arguments.some((argument) => someNode(argument, (inner) => releases(inner, variable)))
  })
}

function releases(node: ts.Node, variable: string): boolean {
  if (!ts.isCallExpression(node)) return false
  const callee = node.expression
  const onVariable = ts.isPropertyAccessExpression(callee) && RELEASE_METHODS.has(callee.name.text) && isIdentifierNamed(skipOuterExpressions(callee.expression), variable)
  const withVariable = RELEASE_METHODS.has(calleeName(node) ?? '') && node.arguments.some((argument) => isIdentifierNamed(argument, variable))
  return onVariable || withVariable
}

/** Handing the client to the caller moves the duty to release it there. */
function returned(scope: ts.Node, variable: string): boolean {
  return someNode(scope, (node) => ts.isReturnStatement(node) && node.expression !== undefined && isIdentifierNamed(skipOuterExpressions(node.expression), variable), {enterFunctions: false})
}
