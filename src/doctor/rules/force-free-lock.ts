import {basename} from 'node:path'

import ts from 'typescript'

import {calleeName} from '../ast.js'
import {propertyKey} from '../static-value.js'
import type {Finding, Rule, SourceFileFacts} from '../types.js'

export const rule: Rule = {
  id: 'force-free-lock',
  defaultSeverity: 'error',
  summary: 'forceFreeMigrationsLock() / migrate:unlock in test or start-up code frees a lock another migrator may hold.',
  checkFile(file) {
    if (basename(file.path) === 'package.json') return packageScripts(file)
    if (!file.isTest && !file.isStartup) return []
    const where = file.isTest ? 'test code' : 'start-up code'
    const findings: Finding[] = []
    for (const call of file.calls) {
      if (calleeName(call) !== 'forceFreeMigrationsLock') continue
      findings.push({message: `forceFreeMigrationsLock() in ${where}: it deletes the migration lock even while another worker or instance is migrating, so both apply the same migrations; let the lock holder finish (poolctl unlock-migrations checks who holds it)`, node: call})
    }
    if (file.source.text.includes('migrate:unlock')) {
      const visit = (node: ts.Node): void => {
        if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) && node.text.includes('migrate:unlock')) {
          findings.push({message: `\`knex migrate:unlock\` run from ${where}: it frees the migration lock without checking that nobody holds it; use poolctl unlock-migrations, which refuses while a live session migrates`, node})
        }
        ts.forEachChild(node, visit)
      }
      visit(file.source)
    }
    return findings
  },
}

/** Scripts that start the app or the tests: `start`, `test`, their `pre`/`post` hooks and `test:*` / `start:*` variants. */
const STARTUP_OR_TEST_SCRIPT = /^(pre|post)?(start|test)(:|$)/

/** `"pretest": "knex migrate:unlock && knex migrate:latest"`: the usual home of the unlock. */
function packageScripts(file: SourceFileFacts): Finding[] {
  const [statement] = file.source.statements
  if (statement === undefined || !ts.isExpressionStatement(statement) || !ts.isObjectLiteralExpression(statement.expression)) return []
  const scripts = statement.expression.properties.find((property) => propertyKey(property.name) === 'scripts')
  if (scripts === undefined || !ts.isPropertyAssignment(scripts) || !ts.isObjectLiteralExpression(scripts.initializer)) return []
  const findings: Finding[] = []
  for (const script of scripts.initializer.properties) {
    const name = propertyKey(script.name)
    if (name === undefined || !STARTUP_OR_TEST_SCRIPT.test(name) || !ts.isPropertyAssignment(script) || !ts.isStringLiteral(script.initializer)) continue
    if (!script.initializer.text.includes('migrate:unlock')) continue
    findings.push({message: `\`knex migrate:unlock\` in the "${name}" script: it frees the migration lock without checking that nobody holds it, so a second instance or test worker migrates at the same time; use poolctl unlock-migrations, which refuses while a live session migrates`, node: script.initializer})
  }
  return findings
}
