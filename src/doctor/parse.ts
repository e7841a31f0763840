/**
 * Parse one JS/TS file with the TypeScript compiler API (`createSourceFile`: a syntax tree, no program,
 * no type checker) and collect, in one walk, what the rules look at: calls, pools built, a knexfile's
 * environments, and whether the file is a test or start-up code.
 */
import {basename, extname} from 'node:path'

import ts from 'typescript'

import {evaluate, skipOuterExpressions, type StaticObject, topLevelConstants} from './static-value.js'
import type {KnexEnvironment, PoolSite, SourceFileFacts} from './types.js'

const SCRIPT_KINDS: Record<string, ts.ScriptKind> = {
  '.cjs': ts.ScriptKind.JS,
  '.cts': ts.ScriptKind.TS,
  '.js': ts.ScriptKind.JS,
  '.jsx': ts.ScriptKind.JSX,
  '.mjs': ts.ScriptKind.JS,
  '.mts': ts.ScriptKind.TS,
  '.ts': ts.ScriptKind.TS,
  '.tsx': ts.ScriptKind.TSX,
}

export const SOURCE_EXTENSIONS: ReadonlySet<string> = new Set(Object.keys(SCRIPT_KINDS))

const KNEXFILE = /^knexfile(\.[\w-]+)?\.[cm]?[jt]s$/
const TEST_DIRECTORY = /(^|\/)(tests?|__tests__|spec|e2e|__mocks__)\//
const TEST_FILE = /\.(test|spec|e2e)\.[cm]?[jt]sx?$|(^|[-_.])(global[-_.]?(setup|teardown)|setup[-_.]?tests?|test[-_.]?setup)\b|^(jest|vitest)\.setup\b/i
const STARTUP_FILE = /^(server|index|main|app|start|startup|bootstrap|boot|entrypoint)$/i

/** What a local name is bound to: `import {Pool} from 'pg'` → {module: 'pg', imported: 'Pool'}. */
interface Binding {
  module: string
  /** 'default', '*' (namespace / whole `require`), or the imported name. */
  imported: string
}

/** JS/TS sources, and package.json (its scripts start the app and the tests: force-free-lock reads them). */
export function isSourceFile(path: string): boolean {
  return (SOURCE_EXTENSIONS.has(extname(path)) && !/\.d\.[cm]?ts$/.test(path)) || basename(path) === 'package.json'
}

export function parseSource(file: string, path: string, text: string): SourceFileFacts {
  const kind = basename(file) === 'package.json' ? ts.ScriptKind.JSON : (SCRIPT_KINDS[extname(file)] ?? ts.ScriptKind.JS)
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind)
  const bindings = importBindings(source)
  const constants = topLevelConstants(source)
  const calls: ts.CallExpression[] = []
  const poolSites: PoolSite[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      calls.push(node)
      if (isKnexCallee(node.expression, bindings)) poolSites.push({config: configOf(node, constants), kind: 'knex', node})
    } else if (ts.isNewExpression(node)) {
      const kind = pgConstructorKind(node.expression, bindings)
      // `new Pool()` takes its connection from PG* variables, but its pool options (timeouts) are all defaults
      const noOptions = (node.arguments?.length ?? 0) === 0
      if (kind !== undefined) poolSites.push({config: noOptions ? {kind: 'object', node, open: false, properties: new Map()} : configOf(node, constants), kind, node})
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  const name = basename(file)
  const stem = name.replace(/\.[^.]+$/, '')
  return {
    calls,
    file,
    isStartup: STARTUP_FILE.test(stem),
    isTest: TEST_DIRECTORY.test(`/${path}`) || TEST_FILE.test(name),
    knexEnvironments: KNEXFILE.test(name) ? knexEnvironments(source, constants) : undefined,
    path,
    poolSites,
    source,
  }
}

/** 1-based line and column of a node's first token. */
export function positionOf(node: ts.Node): {line: number; column: number; endLine: number; endColumn: number} {
  const source = node.getSourceFile()
  const start = source.getLineAndCharacterOfPosition(node.getStart(source))
  const end = source.getLineAndCharacterOfPosition(node.getEnd())
  return {column: start.character + 1, endColumn: end.character + 1, endLine: end.line + 1, line: start.line + 1}
}

function importBindings(source: ts.SourceFile): Map<string, Binding> {
  const bindings = new Map<string, Binding>()
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier) && statement.importClause && !statement.importClause.isTypeOnly) {
      const module = statement.moduleSpecifier.text
      const clause = statement.importClause
      if (clause.name) bindings.set(clause.name.text, {imported: 'default', module})
      const named = clause.namedBindings
      if (named && ts.isNamespaceImport(named)) bindings.set(named.name.text, {imported: '*', module})
      if (named && ts.isNamedImports(named)) {
        for (const element of named.elements) {
          if (!element.isTypeOnly) bindings.set(element.name.text, {imported: (element.propertyName ?? element.name).text, module})
        }
      }
    } else if (ts.isImportEqualsDeclaration(statement) && ts.isExternalModuleReference(statement.moduleReference)) {
      const specifier = statement.moduleReference.expression
      if (ts.isStringLiteral(specifier)) bindings.set(statement.name.text, {imported: '*', module: specifier.text})
    } else if (ts.isVariableStatement(statement)) {
      // `const pg = require('pg')`, `const {Pool} = pg` (after `import pg from 'pg'`), `const Pool = require('pg').Pool`
      for (const declaration of statement.declarationList.declarations) {
        const source = declaration.initializer && resolveBinding(declaration.initializer, bindings)
        if (source === undefined) continue
        if (ts.isIdentifier(declaration.name)) bindings.set(declaration.name.text, source)
        else if (ts.isObjectBindingPattern(declaration.name) && isWholeModule(source)) {
          for (const element of declaration.name.elements) {
            const imported = element.propertyName ? ts.isIdentifier(element.propertyName) ? element.propertyName.text : undefined : ts.isIdentifier(element.name) ? element.name.text : undefined
            if (imported !== undefined && ts.isIdentifier(element.name)) bindings.set(element.name.text, memberOf(source, imported))
          }
        }
      }
    }
  }
  return bindings
}

/** `require('x')` (also `require('x').default`) → 'x'. */
function requiredModule(expression: ts.Expression): string | undefined {
  let node = skipOuterExpressions(expression)
  if (ts.isPropertyAccessExpression(node) && node.name.text === 'default') node = skipOuterExpressions(node.expression)
  if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
    const [argument] = node.arguments
    if (argument && ts.isStringLiteral(argument)) return argument.text
  }
  return undefined
}

const PG_MODULES = new Set(['pg', 'pg-pool'])

function isWholeModule(binding: Binding): boolean {
  return binding.imported === '*' || binding.imported === 'default'
}

/** `module.name`: a named export; `.default` and pg's `.native` (same Pool and Client) are the module again. */
function memberOf(binding: Binding, name: string): Binding {
  return name === 'default' || (binding.module === 'pg' && name === 'native') ? binding : {imported: name, module: binding.module}
}

/** What an expression denotes among the imports: `pg`, `require('pg')`, `pg.Pool`, `require('pg').native.Pool`. */
function resolveBinding(expression: ts.Expression, bindings: ReadonlyMap<string, Binding>): Binding | undefined {
  const node = skipOuterExpressions(expression)
  if (ts.isIdentifier(node)) return bindings.get(node.text)
  const required = requiredModule(node)
  if (required !== undefined) return {imported: '*', module: required}
  if (ts.isPropertyAccessExpression(node)) {
    const target = resolveBinding(node.expression, bindings)
    return target !== undefined && isWholeModule(target) ? memberOf(target, node.name.text) : undefined
  }
  return undefined
}

function pgConstructorKind(callee: ts.Expression, bindings: ReadonlyMap<string, Binding>): PoolSite['kind'] | undefined {
  const binding = resolveBinding(callee, bindings)
  if (binding === undefined || !PG_MODULES.has(binding.module)) return undefined
  if (binding.module === 'pg-pool') return isWholeModule(binding) ? 'pg-pool' : undefined
  return binding.imported === 'Pool' ? 'pg-pool' : binding.imported === 'Client' ? 'pg-client' : undefined
}

function isKnexCallee(callee: ts.Expression, bindings: ReadonlyMap<string, Binding>): boolean {
  const binding = resolveBinding(callee, bindings)
  return binding?.module === 'knex' && ['default', '*', 'knex', 'Knex'].includes(binding.imported)
}

function configOf(node: ts.NewExpression | ts.CallExpression, constants: ReadonlyMap<string, ts.Expression>): StaticObject | undefined {
  const argument = node.arguments?.[0]
  if (argument === undefined) return undefined
  const value = evaluate(argument, constants)
  return value.kind === 'object' ? value : undefined
}

/** The environments of a knexfile read as data: `module.exports =`, `export default`, `export =`. */
function knexEnvironments(source: ts.SourceFile, constants: ReadonlyMap<string, ts.Expression>): KnexEnvironment[] {
  let exported: ts.Expression | undefined
  for (const statement of source.statements) {
    if (ts.isExportAssignment(statement)) exported = statement.expression
    else if (
      ts.isExpressionStatement(statement) &&
      ts.isBinaryExpression(statement.expression) &&
      statement.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      statement.expression.left.getText(source) === 'module.exports'
    ) {
      exported = statement.expression.right
    }
  }
  if (exported === undefined) return []
  const value = evaluate(exported, constants)
  if (value.kind !== 'object') return []
  if (value.properties.has('client') || value.properties.has('connection')) return [{anchor: exported, config: value, name: 'default'}]
  const environments: KnexEnvironment[] = []
  for (const [name, property] of value.properties) {
    if (property.value.kind !== 'object') continue
    const anchor = ts.isPropertyAssignment(property.node) || ts.isShorthandPropertyAssignment(property.node) ? property.node.name : property.node
    environments.push({anchor, config: property.value, name})
  }
  return environments
}
