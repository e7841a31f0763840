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

export function isSourceFile(path: string): boolean {
  return SOURCE_EXTENSIONS.has(extname(path)) && !/\.d\.[cm]?ts$/.test(path)
}

export function parseSource(file: string, path: string, text: string): SourceFileFacts {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, SCRIPT_KINDS[extname(file)] ?? ts.ScriptKind.JS)
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
      if (kind !== undefined) poolSites.push({config: configOf(node, constants), kind, node})
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
      for (const declaration of statement.declarationList.declarations) {
        const module = declaration.initializer && requiredModule(declaration.initializer)
        if (module === undefined) continue
        if (ts.isIdentifier(declaration.name)) bindings.set(declaration.name.text, {imported: '*', module})
        else if (ts.isObjectBindingPattern(declaration.name)) {
          for (const element of declaration.name.elements) {
            const imported = element.propertyName ? ts.isIdentifier(element.propertyName) ? element.propertyName.text : undefined : ts.isIdentifier(element.name) ? element.name.text : undefined
            if (imported !== undefined && ts.isIdentifier(element.name)) bindings.set(element.name.text, {imported, module})
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

function pgConstructorKind(callee: ts.Expression, bindings: ReadonlyMap<string, Binding>): PoolSite['kind'] | undefined {
  const node = skipOuterExpressions(callee)
  const kindOf = (name: string): PoolSite['kind'] | undefined => (name === 'Pool' ? 'pg-pool' : name === 'Client' ? 'pg-client' : undefined)
  if (ts.isIdentifier(node)) {
    const binding = bindings.get(node.text)
    if (binding === undefined || !PG_MODULES.has(binding.module)) return undefined
    if (binding.module === 'pg-pool' && (binding.imported === 'default' || binding.imported === '*')) return 'pg-pool'
    return kindOf(binding.imported)
  }
  if (ts.isPropertyAccessExpression(node)) {
    const target = skipOuterExpressions(node.expression)
    const module = ts.isIdentifier(target) ? bindings.get(target.text) : undefined
    if (module !== undefined && module.module === 'pg' && (module.imported === 'default' || module.imported === '*')) return kindOf(node.name.text)
    if (requiredModule(target) === 'pg') return kindOf(node.name.text)
  }
  return undefined
}

function isKnexCallee(callee: ts.Expression, bindings: ReadonlyMap<string, Binding>): boolean {
  const node = skipOuterExpressions(callee)
  if (ts.isIdentifier(node)) {
    const binding = bindings.get(node.text)
    return binding?.module === 'knex' && ['default', '*', 'knex', 'Knex'].includes(binding.imported)
  }
  if (requiredModule(node) === 'knex') return true
  if (ts.isPropertyAccessExpression(node) && (node.name.text === 'knex' || node.name.text === 'default')) {
    const target = skipOuterExpressions(node.expression)
    return (ts.isIdentifier(target) && bindings.get(target.text)?.module === 'knex') || requiredModule(target) === 'knex'
  }
  return false
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
