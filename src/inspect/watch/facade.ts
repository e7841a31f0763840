/**
 * `--watch`: chooses the renderer when it runs (ink on an interactive terminal, plain text
 * otherwise), drives the refresh loop over the one inspector connection, and stops cleanly on
 * `q`, Ctrl-C or SIGTERM. No React here: ink is imported only on the interactive path.
 */
import {scrubSecrets} from '../../cli/redact.js'
import {isInteractiveTerminal} from '../../ui/terminal.js'
import type {InspectReport} from '../types.js'
import {RefreshLoop} from './loop.js'
import {createPlainRenderer} from './plain-renderer.js'
import {initialWatchState, type WatchState, withError, withReport} from './state.js'

export interface WatchStreams {
  stdout: NodeJS.WritableStream & {isTTY?: boolean}
  stderr: NodeJS.WritableStream
  stdin: NodeJS.ReadableStream & {isTTY?: boolean}
}

/** What a renderer does: draw a state, say when the user asked to quit, tear down. */
export interface WatchRenderer {
  update(state: WatchState): void
  readonly quitRequested: Promise<void>
  close(): Promise<void>
}

export interface RunWatchOptions {
  target: string
  intervalSeconds: number
  /** Takes one report over the reused connection. */
  refresh(): Promise<InspectReport>
  streams?: WatchStreams
  /** Force a renderer; default: decided from the streams (isInteractiveTerminal). */
  interactive?: boolean
  /** Stop signals to handle; default SIGINT and SIGTERM. */
  signals?: NodeJS.Signals[]
  /** Stops the watch when aborted (tests, embedding). */
  signal?: AbortSignal
}

function messageOf(error: unknown): string {
  return scrubSecrets(String((error as {message?: unknown})?.message ?? error)).split('\n')[0]
}

/**
 * Run until the user quits. The first snapshot is taken before anything is drawn: when it fails the
 * error propagates (exit 3, one line), there is nothing to watch. Later failures are shown and the
 * next refresh reconnects.
 */
export async function runWatch(options: RunWatchOptions): Promise<WatchState> {
  const streams = options.streams ?? {stderr: process.stderr, stdin: process.stdin, stdout: process.stdout}
  let state = withReport(initialWatchState(options), await options.refresh(), new Date())
  const interactive = options.interactive ?? isInteractiveTerminal(streams)
  const renderer = interactive
    ? (await import('./ink-renderer.js')).createInkRenderer(streams)
    : createPlainRenderer(streams)
  renderer.update(state)

  const loop = new RefreshLoop<InspectReport>({
    intervalMs: options.intervalSeconds * 1000,
    onResult(result) {
      state = result.ok ? withReport(state, result.value, result.at) : withError(state, messageOf(result.error), result.at)
      renderer.update(state)
    },
    refresh: options.refresh,
  })

  let stop: () => void = () => undefined
  const stopRequested = new Promise<void>((resolve) => {
    stop = resolve
  })
  const signals = options.signals ?? ['SIGINT', 'SIGTERM']
  for (const name of signals) process.on(name, stop)
  options.signal?.addEventListener('abort', stop, {once: true})
  if (options.signal?.aborted) stop()
  try {
    loop.start()
    await Promise.race([stopRequested, renderer.quitRequested])
  } finally {
    for (const name of signals) process.removeListener(name, stop)
    options.signal?.removeEventListener('abort', stop)
    await loop.stop()
    await renderer.close()
  }
  return state
}
