import {basename, dirname} from 'node:path'

import type {PoolSite, Rule, SourceFileFacts} from '../types.js'

/** Module names that, by convention, own the application's one shared pool. */
const OWNER_STEMS = /^(db|database|pool|knex|pg|postgres|connection|connections|datasource|data-source)$/i
const OWNER_DIRECTORIES = /^(db|database)$/i

export const rule: Rule = {
  id: 'separate-pool',
  defaultSeverity: 'error',
  summary: 'A pg.Pool, pg.Client or second knex() built outside the module that owns the shared pool.',
  checkProject(files, context) {
    const candidates = files.filter((file) => !file.isTest && file.poolSites.length > 0)
    const owners = ownerModules(candidates, context.sharedPool)
    const ownerNames = [...owners].join(', ')
    const findings = []
    for (const file of candidates) {
      const isOwner = owners.has(file.path)
      let knexCalls = 0
      for (const site of file.poolSites) {
        if (site.kind === 'knex') knexCalls++
        if (isOwner && (site.kind !== 'knex' || knexCalls === 1)) continue
        findings.push({file, message: describe(site, isOwner, ownerNames), node: site.node})
      }
    }
    return findings
  },
}

function describe(site: PoolSite, isOwner: boolean, owners: string): string {
  const where = isOwner ? 'a second pool in the shared pool module' : `outside the shared pool module (${owners})`
  if (site.kind === 'knex') return `\`knex()\` builds ${where}: another pool whose connections count against the server but not against the shared pool's max; import the shared instance instead`
  const what = site.kind === 'pg-pool' ? `\`new ${site.node.expression.getText()}()\` builds a pool` : `\`new ${site.node.expression.getText()}()\` opens a connection`
  return `${what} ${where}: it bypasses the shared pool's max and acquire timeout; use the shared pool (or knex.raw) instead`
}

/** The config's `sharedPool`, else files named like db/pool/knex, else the first file building knex, else the first building any pool. */
function ownerModules(candidates: readonly SourceFileFacts[], configured: readonly string[]): Set<string> {
  if (configured.length > 0) return new Set(configured)
  const named = candidates.filter((file) => {
    const stem = basename(file.path).replace(/\.[^.]+$/, '')
    return OWNER_STEMS.test(stem) || (stem === 'index' && OWNER_DIRECTORIES.test(basename(dirname(file.path))))
  })
  if (named.length > 0) return new Set(named.map((file) => file.path))
  const first = candidates.find((file) => file.poolSites.some((site) => site.kind === 'knex')) ?? candidates[0]
  return new Set(first ? [first.path] : [])
}
