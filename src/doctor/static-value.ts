/**
 * Evaluate JavaScript/TypeScript expressions as data, without running them: object literals (with
 * spreads of other literals), numbers, strings, booleans, and identifiers bound by a top-level `const`
 * of the same file. Everything else is `unknown`, never a guess. Each value keeps its node, so a
 * diagnostic can point at `max: 10`.
 */
import ts from 'typescript'

export type StaticValue = StaticObject | StaticScalar | StaticUnknown

export interface StaticObject {
  kind: 'object'
  node: ts.Node
  /** Properties in source order of their last assignment; spread-in properties keep their own nodes. */
  properties: Map<string, StaticProperty>
  /** A spread or a computed key we could not evaluate: absent keys may still be set. */
  open: boolean
}

export interface StaticProperty {
  /** The `key: value` (or shorthand) node. */
  node: ts.Node
  value: StaticValue
}

export interface StaticScalar {
  kind: 'number' | 'string' | 'boolean'
  node: ts.Node
  value: number | string | boolean
}

export interface StaticUnknown {
  kind: 'unknown'
  node: ts.Node
}

/** Top-level `const name = <expression>` declarations of a file, for resolving identifiers. */
export function topLevelConstants(source: ts.SourceFile): Map<string, ts.Expression> {
  const constants = new Map<string, ts.Expression>()
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement) || !(statement.declarationList.flags & ts.NodeFlags.Const)) continue
    for (const declaration of statement.declarationList.declarations) {
      if (ts.isIdentifier(declaration.name) && declaration.initializer) constants.set(declaration.name.text, declaration.initializer)
    }
  }
  return constants
}

export function evaluate(node: ts.Expression, constants: ReadonlyMap<string, ts.Expression>, depth = 0): StaticValue {
  const expression = skipOuterExpressions(node)
  if (depth > 20) return {kind: 'unknown', node}
  if (ts.isObjectLiteralExpression(expression)) return evaluateObject(expression, constants, depth)
  if (ts.isNumericLiteral(expression)) return {kind: 'number', node, value: Number(expression.text)}
  if (ts.isPrefixUnaryExpression(expression) && expression.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(expression.operand)) {
    return {kind: 'number', node, value: -Number(expression.operand.text)}
  }
  if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) return {kind: 'string', node, value: expression.text}
  if (expression.kind === ts.SyntaxKind.TrueKeyword) return {kind: 'boolean', node, value: true}
  if (expression.kind === ts.SyntaxKind.FalseKeyword) return {kind: 'boolean', node, value: false}
  if (ts.isBinaryExpression(expression) && expression.operatorToken.kind === ts.SyntaxKind.AsteriskToken) {
    const left = evaluate(expression.left, constants, depth + 1)
    const right = evaluate(expression.right, constants, depth + 1)
    if (left.kind === 'number' && right.kind === 'number') return {kind: 'number', node, value: (left.value as number) * (right.value as number)}
  }
  if (ts.isIdentifier(expression)) {
    const bound = constants.get(expression.text)
    if (bound !== undefined) return {...evaluate(bound, constants, depth + 1), node}
  }
  if (ts.isPropertyAccessExpression(expression)) {
    const target = evaluate(expression.expression, constants, depth + 1)
    if (target.kind === 'object') return target.properties.get(expression.name.text)?.value ?? {kind: 'unknown', node}
  }
  return {kind: 'unknown', node}
}

function evaluateObject(literal: ts.ObjectLiteralExpression, constants: ReadonlyMap<string, ts.Expression>, depth: number): StaticObject {
  const result: StaticObject = {kind: 'object', node: literal, open: false, properties: new Map()}
  for (const member of literal.properties) {
    if (ts.isSpreadAssignment(member)) {
      const spread = evaluate(member.expression, constants, depth + 1)
      if (spread.kind === 'object') {
        for (const [key, property] of spread.properties) result.properties.set(key, property)
        result.open ||= spread.open
      } else {
        result.open = true
      }
      continue
    }
    const key = propertyKey(member.name)
    if (key === undefined) {
      result.open = true
      continue
    }
    if (ts.isPropertyAssignment(member)) {
      result.properties.set(key, {node: member, value: evaluate(member.initializer, constants, depth + 1)})
    } else if (ts.isShorthandPropertyAssignment(member)) {
      result.properties.set(key, {node: member, value: evaluate(member.name, constants, depth + 1)})
    } else {
      // methods and accessors: present, value unknown
      result.properties.set(key, {node: member, value: {kind: 'unknown', node: member}})
    }
  }
  return result
}

export function propertyKey(name: ts.PropertyName | undefined): string | undefined {
  if (name === undefined) return undefined
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isPrivateIdentifier(name)) return name.text
  if (ts.isComputedPropertyName(name) && (ts.isStringLiteral(name.expression) || ts.isNumericLiteral(name.expression))) return name.expression.text
  return undefined
}

/** Parentheses, `as`, `satisfies`, `!` and type assertions do not change a value. */
export function skipOuterExpressions(node: ts.Expression): ts.Expression {
  let current = node
  for (;;) {
    if (ts.isParenthesizedExpression(current) || ts.isAsExpression(current) || ts.isSatisfiesExpression(current) || ts.isNonNullExpression(current) || ts.isTypeAssertionExpression(current)) {
      current = current.expression
    } else {
      return current
    }
  }
}

/** A property of an object value, following nested keys: `get(config, 'pool', 'max')`. */
export function getProperty(object: StaticValue | undefined, ...keys: string[]): StaticProperty | undefined {
  let current: StaticValue | undefined = object
  let property: StaticProperty | undefined
  for (const key of keys) {
    if (current?.kind !== 'object') return undefined
    property = current.properties.get(key)
    current = property?.value
  }
  return property
}

/** The number at a path, `undefined` when absent, `null` when present but not a number we can read. */
export function numberAt(object: StaticValue | undefined, ...keys: string[]): number | null | undefined {
  const property = getProperty(object, ...keys)
  if (property === undefined) return undefined
  return property.value.kind === 'number' ? (property.value.value as number) : null
}
