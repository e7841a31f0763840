/**
 * Ask on the terminal which parts to scaffold. Keys are read here (raw mode) and fed to the pure
 * reducer in state.ts; ink only redraws PartPicker from the new state. Imported only on a TTY.
 */
import {render} from 'ink'

import type {Part} from '../files.js'
import {PartPicker} from './components.js'
import {initialPicker, keysOf, reducePicker, selectedParts} from './state.js'

export async function pickParts(parts: readonly Part[], preselected: readonly Part[]): Promise<Part[] | null> {
  let state = initialPicker(parts, preselected)
  const stdin = process.stdin
  // Raw mode before the first frame: keys typed as soon as the question shows must not sit in the
  // terminal's line buffer (where they would arrive later as one "aa \n" chunk).
  stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  const instance = render(<PartPicker cursor={state.cursor} parts={state.parts} selected={state.selected} />, {exitOnCtrlC: false, patchConsole: false, stdout: process.stderr})
  stdin.resume()
  try {
    await new Promise<void>((resolve) => {
      const onData = (data: string) => {
        for (const key of keysOf(data)) {
          state = reducePicker(state, key)
          if (state.outcome !== 'open') break
        }
        instance.rerender(<PartPicker cursor={state.cursor} parts={state.parts} selected={state.selected} />)
        if (state.outcome !== 'open') {
          stdin.off('data', onData)
          resolve()
        }
      }
      stdin.on('data', onData)
    })
  } finally {
    stdin.setRawMode(false)
    stdin.pause()
    instance.unmount()
    await instance.waitUntilExit().catch(() => undefined)
  }
  return state.outcome === 'done' ? selectedParts(state) : null
}
