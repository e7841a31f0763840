#!/usr/bin/env node
// `npm test`: compile, start one embedded PostgreSQL, run node's test runner
// over dist/test, stop the server. Usage:
//
//   npm test                 all tests
//   npm test -- core ping    only test files whose path contains "core" or "ping"
//
// POOLCTL_TEST_DATABASE_URL=postgres://...  use that server instead of starting one
// POOLCTL_TEST_VERBOSE=1                    show the embedded server's log
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, relative, sep} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const require = createRequire(import.meta.url)
const filters = process.argv.slice(2).filter((arg) => arg !== '--')

function step(title) {
  process.stdout.write(`\n▶ ${title}\n`)
}

// 1. Compile. Always: tsc is fast enough and a stale dist/ lies.
step('tsc -p tsconfig.json')
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], {
  cwd: root,
  stdio: 'inherit',
})
if (tsc.status !== 0) {
  process.stderr.write('run-tests: the TypeScript build failed\n')
  process.exit(tsc.status ?? 1)
}
// The CLI tests read the manifest the build writes; keep it in step with dist/.
const manifest = spawnSync(process.execPath, [join(root, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'], {
  cwd: root,
  // no "oclif update available" registry look-up
  env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'},
  stdio: ['ignore', 'ignore', 'inherit'],
})
if (manifest.status !== 0) {
  process.stderr.write('run-tests: `oclif manifest` failed\n')
  process.exit(manifest.status ?? 1)
}

// 2. Test files: every test/**/*.test.ts(x) that has a compiled twin. Walking
// the sources (not dist/) means a deleted test never runs from a stale build.
function walk(dir) {
  const found = []
  if (!existsSync(dir)) return found
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...walk(path))
    else if (/\.test\.tsx?$/.test(entry.name)) found.push(path)
  }
  return found
}
const files = walk(join(root, 'test'))
  .map((source) => join(root, 'dist', relative(root, source)).replace(/\.tsx?$/, '.js'))
  .filter((compiled) => existsSync(compiled))
  .filter((compiled) => {
    if (filters.length === 0) return true
    const rel = relative(join(root, 'dist', 'test'), compiled).split(sep).join('/')
    return filters.some((filter) => rel.includes(filter))
  })
  .sort()
if (files.length === 0) {
  process.stderr.write(`run-tests: no test files match ${filters.length > 0 ? filters.join(', ') : '(all)'}\n`)
  process.exit(1)
}

// 3. One PostgreSQL for the whole run.
let server
let child
let finishing = false

async function finish(code) {
  if (finishing) return
  finishing = true
  if (server) {
    try {
      await server.stop()
    } catch (error) {
      process.stderr.write(`run-tests: stopping PostgreSQL failed: ${error?.message ?? error}\n`)
    }
  }
  // Explicit exit: never let anything else decide the exit code.
  process.exit(code)
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(signal, () => {
    process.stderr.write(`\nrun-tests: ${signal}, stopping\n`)
    if (child && child.exitCode === null) child.kill(signal)
    void finish(code)
  })
}

const env = {...process.env}
if (env.POOLCTL_TEST_DATABASE_URL) {
  step('using POOLCTL_TEST_DATABASE_URL')
} else {
  step('starting embedded PostgreSQL')
  const startedAt = Date.now()
  try {
    const {startEmbeddedPostgres} = await import(pathToFileURL(join(root, 'dist', 'src', 'embedded', 'embedded-postgres.js')).href)
    // Two test files run at once against this one server, some opening dozens of sessions (inspect's
    // known sessions, unlock's concurrent migrators): Postgres' default of 100 slots is too tight.
    server = await startEmbeddedPostgres({settings: {max_connections: '400'}, verbose: Boolean(env.POOLCTL_TEST_VERBOSE)})
  } catch (error) {
    process.stderr.write(`run-tests: ${error?.message ?? error}\n`)
    await finish(1)
  }
  process.stdout.write(`PostgreSQL ready at ${server.displayUrl} in ${Date.now() - startedAt} ms\n`)
  env.POOLCTL_TEST_DATABASE_URL = server.url
}

// 4. node --test (Node 20 has no globs in --test: pass the files).
step(`node --test (${files.length} files)`)
const args = [
  '--test',
  '--test-reporter=spec',
  '--test-concurrency=2',
  '--test-timeout=120000',
  ...files.map((file) => relative(root, file)),
]
child = spawn(process.execPath, args, {cwd: root, env, stdio: 'inherit'})
child.on('error', (error) => {
  process.stderr.write(`run-tests: could not start node --test: ${error.message}\n`)
  void finish(1)
})
child.on('exit', (code, signal) => {
  void finish(code ?? (signal ? 1 : 0))
})
