/** Fixture projects for the init tests, each in its own temp dir. */
import {mkdir, mkdtemp, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {PROJECT_ROOT} from '../support/cli.js'

export interface FixtureSpec {
  packageJson: Record<string, unknown>
  files?: Record<string, string>
  /** Link poolctl's node_modules (knex, pg, prom-client, typescript types) so generated code runs and type-checks. */
  linkNodeModules?: boolean
  /** Instead: a node_modules of its own holding links to knex and pg, and .bin/poolctl (this checkout's CLI). */
  installPoolctl?: boolean
}

export async function createFixture(spec: FixtureSpec): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'poolctl-init-'))
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(spec.packageJson, null, 2)}\n`)
  for (const [path, content] of Object.entries(spec.files ?? {})) {
    await mkdir(dirname(join(dir, path)), {recursive: true})
    await writeFile(join(dir, path), content)
  }
  if (spec.linkNodeModules) await symlink(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  if (spec.installPoolctl) {
    await mkdir(join(dir, 'node_modules', '.bin'), {recursive: true})
    for (const name of ['knex', 'pg']) await symlink(join(PROJECT_ROOT, 'node_modules', name), join(dir, 'node_modules', name), 'dir')
    await symlink(join(PROJECT_ROOT, 'bin', 'run.js'), join(dir, 'node_modules', '.bin', 'poolctl'))
  }
  return dir
}

export const CJS_KNEXFILE = `module.exports = {
  development: {client: 'pg', connection: process.env.DATABASE_URL, pool: {min: 2, max: 10}},
  production: {client: 'pg', connection: process.env.DATABASE_URL, migrations: {directory: './db/migrations'}},
}
`

/** JS, CommonJS, mocha, an existing knexfile and workflow. */
export const JS_CJS: FixtureSpec = {
  files: {'.github/workflows/ci.yml': 'name: ci\non: push\njobs: {}\n', 'knexfile.js': CJS_KNEXFILE, 'package-lock.json': '{}\n'},
  packageJson: {devDependencies: {mocha: '^10.0.0'}, name: 'billing', scripts: {test: 'mocha'}},
}

/** TypeScript, ESM, vitest, no knexfile, a src/ dir. */
export const TS_ESM: FixtureSpec = {
  files: {'src/index.ts': 'export {}\n', 'tsconfig.json': '{}\n'},
  packageJson: {devDependencies: {typescript: '^5.9.0', vitest: '^3.0.0'}, name: '@acme/orders-api', type: 'module'},
}

/** TypeScript, CommonJS, jest, no knexfile. */
export const TS_CJS: FixtureSpec = {
  files: {'tsconfig.json': '{}\n'},
  packageJson: {devDependencies: {jest: '^29.0.0', typescript: '^5.9.0'}, name: 'reports', scripts: {test: 'jest'}},
}

/** JS, ESM, node:test, no knexfile. */
export const JS_ESM: FixtureSpec = {
  packageJson: {name: 'shop', scripts: {test: 'node --test'}, type: 'module'},
}
