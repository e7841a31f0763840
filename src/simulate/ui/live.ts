/**
 * The facade: a live ink dashboard on an interactive terminal, one plain progress line per second
 * otherwise. Chosen when the run starts, from the streams actually used (never at import time).
 */
import type {Snapshot} from '../engine.js'
import {formatProgressLine} from '../progress.js'

export interface LiveOutput {
  /** Final redraw and unmount (ink), or stop the progress timer (plain). */
  stop(): Promise<void>
}

export interface LiveOutputOptions {
  interactive: boolean
  snapshot: () => Snapshot
  title: string
  /** Where plain progress lines go (stderr: stdout is kept for the report). */
  progress: NodeJS.WritableStream
  stdout: NodeJS.WriteStream
  stdin: NodeJS.ReadStream
  onQuit: () => void
}

export async function startLiveOutput(options: LiveOutputOptions): Promise<LiveOutput> {
  return options.interactive ? startInk(options) : startPlain(options)
}

function startPlain(options: LiveOutputOptions): LiveOutput {
  const timer = setInterval(() => options.progress.write(`${formatProgressLine(options.snapshot())}\n`), 1000)
  return {
    async stop() {
      clearInterval(timer)
    },
  }
}

async function startInk(options: LiveOutputOptions): Promise<LiveOutput> {
  const [{render}, {createElement}, {App}] = await Promise.all([import('ink'), import('react'), import('./app.js')])
  const element = () => createElement(App, {snapshot: options.snapshot(), title: options.title, onQuit: options.onQuit})
  const instance = render(element(), {stdout: options.stdout, stdin: options.stdin, exitOnCtrlC: false, patchConsole: false})
  const timer = setInterval(() => instance.rerender(element()), 250)
  return {
    async stop() {
      clearInterval(timer)
      instance.rerender(element())
      instance.unmount()
      await instance.waitUntilExit().catch(() => undefined)
    },
  }
}
