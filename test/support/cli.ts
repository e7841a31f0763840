import {type ChildProcessWithoutNullStreams, spawn, spawnSync} from 'node:child_process'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The project root (this file runs from dist/test/support/). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const BIN = join(PROJECT_ROOT, 'bin', 'run.js')
/** The development entry: TypeScript sources through tsx. */
export const DEV_BIN = join(PROJECT_ROOT, 'bin', 'dev.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  durationMs: number
}

export interface RunCliOptions {
  /** Entry script; default bin/run.js. */
  bin?: string
  env?: Record<string, string | undefined>
  cwd?: string
  timeoutMs?: number
}

/**
 * The environment a spawned CLI sees: the test process's, minus anything that
 * could pick a database or change behaviour behind the test's back (DATABASE_URL,
 * PG*, NODE_ENV, which would put oclif into development mode), with .pgpass
 * pointed at a file that does not exist. `env` entries set to undefined are removed.
 */
export function cliEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'DATABASE_URL' || key === 'NODE_ENV' || key.startsWith('PG') || key.startsWith('POOLCTL_')) continue
    base[key] = value
  }
  base.PGPASSFILE = join(PROJECT_ROOT, 'does-not-exist.pgpass')
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete base[key]
    else base[key] = value
  }
  return base
}

/**
 * The environment of a developer's terminal, for tests that run poolctl under a pseudo-terminal: no CI
 * variables (under CI poolctl rightly falls back to plain text, as ink would draw nothing), a size and
 * a TERM that can move the cursor.
 */
export function terminalEnv(): NodeJS.ProcessEnv {
  const env = cliEnv()
  for (const key of Object.keys(env)) {
    if (key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_')) delete env[key]
  }

  return {...env, COLUMNS: '120', LINES: '40', TERM: 'xterm-256color'}
}

/** Whether util-linux `script` is installed: it gives a child process a real pseudo-terminal. */
export const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0

/** Start `poolctl ...args` on a pseudo-terminal (util-linux `script`); the test talks to it through
 * the child's stdin and stdout. Check HAS_SCRIPT first. */
export function spawnOnTerminal(args: string[], env: NodeJS.ProcessEnv = terminalEnv()): ChildProcessWithoutNullStreams {
  const command = [process.execPath, BIN, ...args].map((arg) => `'${arg.replaceAll("'", String.raw`'\''`)}'`).join(' ')
  return spawn('script', ['-qfec', command, '/dev/null'], {cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe']})
}

/**
 * Talk to a child on a pseudo-terminal: once its output satisfies `shown`, type `keys` one write at a
 * time, 50 ms apart (as a person types; raw-mode readers take input chunk by chunk), then wait for it
 * to close. The exit code and everything it printed, to assert on.
 */
export async function typeOnceShown(
  child: ChildProcessWithoutNullStreams,
  shown: (output: string) => boolean,
  keys: readonly string[],
): Promise<{code: number | null; output: string}> {
  let output = ''
  let typing = false
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
    if (typing || !shown(output)) return
    typing = true
    void (async () => {
      for (const key of keys) {
        child.stdin.write(key)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return {code, output}
}

/** Run `node bin/run.js ...args` and collect everything. Never rejects on a non-zero exit. */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  const startedAt = performance.now()
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: cliEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`poolctl ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, options.timeoutMs ?? 60_000)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({code, durationMs: performance.now() - startedAt, signal, stderr, stdout})
    })
  })
}

/** Non-empty lines. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim().length > 0)
}
