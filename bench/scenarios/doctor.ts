/**
 * Scenario: `poolctl doctor` on a generated 2,000-file project, next to eslint 10 with `@eslint/js`
 * recommended rules on the same tree, in the same run. Both are what an editor task or a CI step
 * spawns: process start → parse every file → report → exit. The files are plain ES modules (`.js`), so
 * eslint needs no extra parser and both tools read exactly the same 2,000 files.
 *
 * The project is written once into a temp dir (by the first contender's setup, removed by the last
 * teardown): a knexfile, the shared pool module, and 2,000 modules cycling through five shapes
 * (repositories with knex queries, workers that loop over rows, HTTP handlers, utilities, pg code with
 * connect/release), about 40 lines each, some with code doctor flags. Plus node_modules and dist
 * directories that both tools must skip.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {labelFor, projectRoot} from '../env.js'
import {type BenchOptions, type Contender, type Scenario, milliseconds} from '../harness.js'

const POOLCTL = join(projectRoot, 'bin', 'run.js')
const ESLINT = join(projectRoot, 'node_modules', 'eslint', 'bin', 'eslint.js')
const FILES = 2000

const SHAPES: Array<(i: number) => string> = [
  (i) => `import db from '../../db.js'

/** Orders of customer group ${i}. */
export async function listOrders${i}(customerId, {limit = 50, offset = 0} = {}) {
  const rows = await db('orders')
    .where({customer_id: customerId, group_id: ${i}})
    .orderBy('created_at', 'desc')
    .limit(limit)
    .offset(offset)
    .select('id', 'total', 'status')
  return rows.map((row) => ({...row, total: Number(row.total)}))
}

export async function markShipped${i}(ids) {
  if (ids.length === 0) return 0
  return db('orders').whereIn('id', ids).update({status: 'shipped', shipped_at: db.fn.now()})
}

export async function totals${i}(from, to) {
  const [{sum}] = await db('orders').whereBetween('created_at', [from, to]).sum({sum: 'total'})
  return Number(sum ?? 0)
}
`,
  (i) => `import db from '../../db.js'

const BATCH = ${10 + (i % 50)}

export async function refreshItems${i}(orders) {
  const result = []
  for (const order of orders) {
    const items = await db('items').where({order_id: order.id}).select()
    result.push({order, items, count: items.length})
  }
  return result
}

export async function runWorker${i}(signal) {
  while (!signal.aborted) {
    const jobs = await db.raw('select * from jobs where queue = ? for update skip locked limit ?', ['q${i}', BATCH])
    if (jobs.rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}
`,
  (i) => `import {listOrders${i - 2}} from './module${i - 2}.js'

export function handler${i}(request, response) {
  const id = Number(request.params.id)
  if (!Number.isInteger(id) || id < 1) {
    response.statusCode = 400
    return response.end(JSON.stringify({error: 'bad id'}))
  }
  return listOrders${i - 2}(id)
    .then((orders) => {
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify(orders))
    })
    .catch((error) => {
      console.error(error)
      response.statusCode = 500
      response.end()
    })
}
`,
  (i) => `const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

export function formatBytes${i}(bytes) {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return value.toFixed(unit === 0 ? 0 : 1) + ' ' + UNITS[unit]
}

export function chunk${i}(items, size) {
  const chunks = []
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size))
  return chunks
}

export function debounce${i}(fn, ms) {
  let timer
  return (...args) => {
    clearTimeout(timer)
    timer = setTimeout(() => fn(...args), ms)
  }
}
`,
  (i) => `import pg from 'pg'

const pool = new pg.Pool({connectionString: process.env.DATABASE_URL, max: 2, connectionTimeoutMillis: 5000, idleTimeoutMillis: 10000})

export async function transfer${i}(from, to, amount) {
  const client = await pool.connect()
  try {
    await client.query('begin')
    await client.query('update accounts set balance = balance - $1 where id = $2', [amount, from])
    await client.query('update accounts set balance = balance + $1 where id = $2', [amount, to])
    await client.query('commit')
  } catch (error) {
    await client.query('rollback')
    throw error
  } finally {
    client.release()
  }
}

export async function slowReport${i}() {
  return Promise.race([pool.query('select * from report_${i}'), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000))])
}
`,
]

/** The generated project, shared by both contenders: written by the first setup, removed by the last teardown. */
class Project {
  dir: string | undefined
  users = 0

  open(): string {
    this.users++
    if (this.dir !== undefined) return this.dir
    const dir = mkdtempSync(join(tmpdir(), 'poolctl-bench-doctor-'))
    mkdirSync(join(dir, '.git'))
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\ndist/\n')
    writeFileSync(join(dir, 'package.json'), JSON.stringify({name: 'bench-app', private: true, type: 'module'}))
    writeFileSync(join(dir, '.poolctlrc.json'), JSON.stringify({doctor: {concurrency: 50}}))
    writeFileSync(
      join(dir, 'knexfile.js'),
      "export default {\n  development: {client: 'pg', connection: {database: 'app'}},\n  production: {client: 'pg', connection: process.env.DATABASE_URL, pool: {min: 0, max: 10}},\n}\n",
    )
    writeFileSync(join(dir, 'db.js'), "import knex from 'knex'\nimport config from './knexfile.js'\n\nexport default knex(config[process.env.NODE_ENV ?? 'development'])\n")
    const eslintJs = pathToFileURL(createRequire(join(projectRoot, 'package.json')).resolve('@eslint/js')).href
    writeFileSync(
      join(dir, 'eslint.config.mjs'),
      `import js from ${JSON.stringify(eslintJs)}\n\nexport default [\n  {ignores: ['dist/**']},\n  js.configs.recommended,\n  {languageOptions: {globals: {process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly'}}},\n]\n`,
    )
    // files -2 (db.js, knexfile.js) = FILES project sources; eslint.config.mjs is eslint's own
    for (let i = 0; i < FILES - 2; i++) {
      const folder = join(dir, 'src', `area${Math.floor(i / 100)}`)
      mkdirSync(folder, {recursive: true})
      // shape 2 imports module i-2 of the same folder, which has shape 0 (100 is a multiple of 5)
      writeFileSync(join(folder, `module${i % 100}.js`), SHAPES[i % SHAPES.length](i % 100))
    }
    for (const skipped of ['node_modules/lib', 'dist']) {
      mkdirSync(join(dir, skipped), {recursive: true})
      for (let i = 0; i < 200; i++) writeFileSync(join(dir, skipped, `file${i}.js`), SHAPES[i % SHAPES.length](i + 2))
    }
    this.dir = dir
    return dir
  }

  close(): void {
    this.users--
    if (this.users === 0 && this.dir !== undefined) {
      rmSync(this.dir, {force: true, recursive: true})
      this.dir = undefined
    }
  }
}

function timedRun(project: Project, args: string[], okCodes: number[], what: string): () => Promise<number> {
  return async () => {
    const started = performance.now()
    const child = spawnSync(process.execPath, args, {cwd: project.dir, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024})
    const ms = performance.now() - started
    if (child.error !== undefined) throw child.error
    if (!okCodes.includes(child.status ?? -1)) throw new Error(`${what} exited ${child.status}: ${(child.stderr || child.stdout).trim().split('\n')[0]}`)
    return ms
  }
}

export function doctorScenarios({quick}: BenchOptions): Scenario[] {
  const project = new Project()
  const contender = (id: string, label: string, args: string[], note: string): Contender => ({
    id,
    label,
    note,
    measure: timedRun(project, args, [0, 1], id),
    async setup() {
      project.open()
    },
    async teardown() {
      project.close()
    },
  })
  return [
    {
      id: 'doctor',
      group: 'doctor',
      title: `Static checks: \`poolctl doctor\` vs eslint (recommended rules) on a ${FILES}-file project`,
      method: `Each run is a fresh process through spawnSync in the generated project (${FILES} .js files in 20 folders, plus node_modules/ and dist/ to skip), timed from spawn to exit.`,
      unit: milliseconds,
      rounds: quick ? 2 : 5,
      subject: 'doctor',
      contenders: [
        contender('doctor', 'poolctl doctor (`node bin/run.js doctor`)', [POOLCTL, 'doctor', '--format', 'compact'], '12 rules, TypeScript compiler API parser, no type checker'),
        contender('eslint', `${labelFor('eslint')} (\`eslint .\`, @eslint/js recommended)`, [ESLINT, '.'], '`js.configs.recommended` from a flat config in the project, no cache'),
      ],
      goals: [{kind: 'faster', vs: 'eslint', factor: 1, label: 'doctor wall time ≤ eslint wall time on the same tree'}],
      skip: () => (existsSync(POOLCTL) && existsSync(join(projectRoot, 'oclif.manifest.json')) ? undefined : 'not built: run `npm run build`'),
    },
  ]
}
