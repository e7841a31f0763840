/** Syntax helpers the rules share. */
import ts from 'typescript'

import {getProperty, skipOuterExpressions, type StaticObject, type StaticProperty, type StaticValue} from './static-value.js'
import type {KnexEnvironment, PoolSite, SourceFileFacts} from './types.js'

/** The called name: `pool.query(...)` → 'query', `race(...)` → 'race'. */
export function calleeName(call: ts.CallExpression): string | undefined {
  const callee = call.expression
  if (ts.isIdentifier(callee)) return callee.text
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text
  return undefined
}

/** The receiver of a method call: `a.b.latest()` → `a.b`. */
export function calleeObject(call: ts.CallExpression): ts.Expression | undefined {
  return ts.isPropertyAccessExpression(call.expression) ? call.expression.expression : undefined
}

export function isFunctionLike(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)
}

/** The body of the innermost function around `node`, or the file. */
export function enclosingScope(node: ts.Node): ts.Node {
  for (let current = node.parent; current !== undefined; current = current.parent) {
    if (isFunctionLike(current)) return current.body ?? current
    if (ts.isSourceFile(current)) return current
  }
  return node.getSourceFile()
}

/** Does `root` contain a node for which `test` holds (`root` included)? Stops at nested functions when asked. */
export function someNode(root: ts.Node, test: (node: ts.Node) => boolean, options: {enterFunctions?: boolean} = {}): boolean {
  const enter = options.enterFunctions ?? true
  const visit = (node: ts.Node): boolean => {
    if (test(node)) return true
    if (!enter && node !== root && isFunctionLike(node)) return false
    return ts.forEachChild(node, visit) === true
  }
  return visit(root)
}

/** The call a function is passed to as an argument (`retry(() => …)`, `rows.forEach(async (row) => …)`), if any. */
export function callTakingCallback(fn: ts.Node): ts.CallExpression | undefined {
  const outer = fn.parent
  return outer !== undefined && ts.isCallExpression(outer) && outer.arguments.includes(fn as ts.Expression) ? outer : undefined
}

/** The identifier a property chain starts from: `tenant.db.migrate` → `tenant`. */
export function rootIdentifier(expression: ts.Expression): ts.Identifier | undefined {
  let node = skipOuterExpressions(expression)
  while (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node) || ts.isCallExpression(node)) node = skipOuterExpressions(node.expression)
  return ts.isIdentifier(node) ? node : undefined
}

/**
 * Is `call` run on the item of a for…of around it (`for (const tenant of tenants) await
 * tenant.migrate.latest()`, `for (const sql of statements) await client.query(sql)`)? Then each turn
 * does different work, not the same query once per row.
 */
export function isOnLoopItem(call: ts.CallExpression): boolean {
  const receiver = calleeObject(call)
  // the first argument of query()/raw() is the SQL; of insert(item) it is data, one row per turn
  const sql = ['query', 'raw'].includes(calleeName(call) ?? '') ? call.arguments[0] : undefined
  const names = [receiver && rootIdentifier(receiver), sql].filter((node): node is ts.Identifier => node !== undefined && ts.isIdentifier(node)).map((node) => node.text)
  if (names.length === 0) return false
  for (let node: ts.Node = call; node.parent !== undefined && !isFunctionLike(node); node = node.parent) {
    const loop = node.parent
    if (!ts.isForOfStatement(loop) || !ts.isVariableDeclarationList(loop.initializer)) continue
    const [binding] = loop.initializer.declarations
    if (binding !== undefined && ts.isIdentifier(binding.name) && names.includes(binding.name.text)) return true
  }
  return false
}

export function isIdentifierNamed(node: ts.Node | undefined, name: string): boolean {
  return node !== undefined && ts.isIdentifier(node) && node.text === name
}

/** Methods whose awaited call runs a query: pg's `query`, knex's `raw` and query builder terminals. */
export const QUERY_METHODS: ReadonlySet<string> = new Set([
  'query', 'raw', 'execute', 'first', 'select', 'insert', 'update', 'upsert', 'pluck', 'returning',
  'where', 'whereIn', 'whereRaw', 'increment', 'decrement',
])

export function isQueryCall(node: ts.Node): node is ts.CallExpression {
  if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression)) return false
  return QUERY_METHODS.has(node.expression.name.text)
}

/** Knexfile environments that run somewhere other than a developer's machine or a test run. */
export function isDeployedEnvironment(name: string): boolean {
  return !/^(dev|develop|development|test|testing|local|ci)$/i.test(name)
}

/** A pool configuration in source: a knexfile environment or the object literal given to `knex()` / `new Pool()`. */
export interface PoolConfigTarget {
  kind: PoolSite['kind']
  /** How messages name it: "knexfile environment `production`", "`new Pool()`". */
  label: string
  anchor: ts.Node
  /** The whole configuration (knex: client, connection, pool…; pg: the pool options). */
  config: StaticObject
  /** Where the pool options are: knex's `pool` object, pg's options themselves. */
  pool: StaticValue | undefined
  environment: string | undefined
}

/** Every pool configuration in the file that the pool rules check (deployed knexfile environments and literal configs). */
export function poolConfigTargets(file: SourceFileFacts, options: {allEnvironments?: boolean} = {}): PoolConfigTarget[] {
  const targets: PoolConfigTarget[] = []
  for (const environment of file.knexEnvironments ?? []) {
    if (!options.allEnvironments && !isDeployedEnvironment(environment.name)) continue
    targets.push(knexTarget(environment))
  }
  // A test's own pool is not production configuration.
  for (const site of file.isTest ? [] : file.poolSites) {
    if (site.config === undefined) continue
    const label = site.kind === 'knex' ? '`knex()`' : `\`new ${site.node.expression.getText()}()\``
    const pool = site.kind === 'knex' ? getProperty(site.config, 'pool')?.value : site.config
    targets.push({anchor: site.node, config: site.config, environment: undefined, kind: site.kind, label, pool})
  }
  return targets
}

function knexTarget(environment: KnexEnvironment): PoolConfigTarget {
  return {
    anchor: environment.anchor,
    config: environment.config,
    environment: environment.name,
    kind: 'knex',
    label: environment.name === 'default' ? 'the knexfile' : `knexfile environment \`${environment.name}\``,
    pool: getProperty(environment.config, 'pool')?.value,
  }
}

/**
 * The pool option `key` of a target: its property, `'absent'` when it is certainly not set, or
 * `'unknown'` when it may be set where we cannot see (a spread we could not read, a non-literal pool).
 */
export function poolOption(target: PoolConfigTarget, key: string): StaticProperty | 'absent' | 'unknown' {
  const pool = target.pool
  if (pool === undefined) return target.config.open ? 'unknown' : 'absent'
  if (pool.kind !== 'object') return 'unknown'
  const property = pool.properties.get(key)
  if (property !== undefined) return property
  return pool.open ? 'unknown' : 'absent'
}
