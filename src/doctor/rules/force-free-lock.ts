import ts from 'typescript'

import {calleeName} from '../ast.js'
import type {Finding, Rule} from '../types.js'

export const rule: Rule = {
  id: 'force-free-lock',
  defaultSeverity: 'error',
  summary: 'forceFreeMigrationsLock() / migrate:unlock in test or start-up code frees a lock another migrator may hold.',
  checkFile(file) {
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
