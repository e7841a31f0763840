/**
 * The interactive renderer: ink redraws WatchApp in place on every state change. This module (and so
 * ink and React) is imported only when the facade decided the terminal is interactive.
 */
import {render} from 'ink'

import {WatchApp} from './components.js'
import type {WatchRenderer, WatchStreams} from './facade.js'
import type {WatchState} from './state.js'

export function createInkRenderer(streams: WatchStreams): WatchRenderer {
  let quit: () => void = () => undefined
  const quitRequested = new Promise<void>((resolve) => {
    quit = resolve
  })
  let instance: ReturnType<typeof render> | undefined
  let closed = false
  const draw = (state: WatchState) => <WatchApp onQuit={quit} state={state} />
  return {
    async close() {
      if (closed) return
      closed = true
      instance?.unmount()
      await instance?.waitUntilExit().catch(() => undefined)
    },
    quitRequested,
    update(state) {
      if (closed) return
      if (instance) {
        instance.rerender(draw(state))
        return
      }
      instance = render(draw(state), {
        exitOnCtrlC: true,
        patchConsole: false,
        stderr: streams.stderr as NodeJS.WriteStream,
        stdin: streams.stdin as NodeJS.ReadStream,
        stdout: streams.stdout as NodeJS.WriteStream,
      })
      // Ctrl-C (ink's exitOnCtrlC) unmounts the app: treat it as quit.
      void instance.waitUntilExit().then(quit, quit)
    },
  }
}
