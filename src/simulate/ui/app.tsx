import {useInput} from 'ink'

import type {Snapshot} from '../engine.js'
import {Dashboard} from './dashboard.js'

/** The dashboard plus the keys: q or Ctrl-C asks the run to stop (ink's own Ctrl-C exit is off). */
export function App({snapshot, title, onQuit}: {snapshot: Snapshot; title: string; onQuit: () => void}) {
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) onQuit()
  })
  return <Dashboard snapshot={snapshot} title={title} />
}
