/**
 * The renderer for anything that is not an interactive terminal (CI logs, pipes, files): one plain
 * text snapshot per refresh, the same text as a one-shot `poolctl inspect`, never an escape code.
 * Failed refreshes go to stderr as one line each.
 */
import {renderText} from '../render/text.js'
import type {WatchRenderer, WatchStreams} from './facade.js'
import type {WatchState} from './state.js'

export function createPlainRenderer(streams: WatchStreams): WatchRenderer {
  let lastRefresh = -1
  let lastError: Date | undefined
  return {
    async close() {
      // nothing to tear down: every snapshot was written whole
    },
    // Plain mode has no keyboard: it stops on SIGINT/SIGTERM (see the facade).
    quitRequested: new Promise<void>(() => undefined),
    update(state: WatchState) {
      if (state.error !== undefined && state.errorAt !== lastError) {
        lastError = state.errorAt
        streams.stderr.write(`poolctl: warning: refresh failed: ${state.error} (retrying every ${state.intervalSeconds} s)\n`)
      }
      if (state.report === undefined || state.refreshes === lastRefresh) return
      lastRefresh = state.refreshes
      const stamp = state.updatedAt?.toISOString() ?? ''
      streams.stdout.write(`── ${stamp} · refresh ${state.refreshes} · every ${state.intervalSeconds} s · Ctrl-C to stop\n${renderText(state.report)}\n\n`)
    },
  }
}
