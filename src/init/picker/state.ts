import type {Part} from '../files.js'

/** The part picker's state: no React here, so it is tested without rendering. */
export interface PickerState {
  parts: readonly Part[]
  cursor: number
  selected: ReadonlySet<Part>
  outcome: 'open' | 'done' | 'cancelled'
}

export type PickerKey = 'up' | 'down' | 'toggle' | 'all' | 'confirm' | 'cancel'

export function initialPicker(parts: readonly Part[], preselected: readonly Part[]): PickerState {
  return {cursor: 0, outcome: 'open', parts, selected: new Set(preselected)}
}

export function reducePicker(state: PickerState, key: PickerKey): PickerState {
  if (state.outcome !== 'open') return state
  const count = state.parts.length
  switch (key) {
    case 'up':
      return {...state, cursor: (state.cursor - 1 + count) % count}
    case 'down':
      return {...state, cursor: (state.cursor + 1) % count}
    case 'toggle': {
      const part = state.parts[state.cursor]
      const selected = new Set(state.selected)
      if (selected.has(part)) selected.delete(part)
      else selected.add(part)
      return {...state, selected}
    }
    case 'all':
      return {...state, selected: state.selected.size === count ? new Set() : new Set(state.parts)}
    case 'confirm':
      return state.selected.size === 0 ? state : {...state, outcome: 'done'}
    case 'cancel':
      return {...state, outcome: 'cancelled'}
  }
}

/**
 * One chunk of raw terminal input → the keys in it, in order. A fast typist, a paste or a loaded
 * machine delivers several keys in one read ("aa \r"); an arrow is one three-byte escape sequence.
 */
export function keysOf(data: string): PickerKey[] {
  const keys: PickerKey[] = []
  for (let index = 0; index < data.length; ) {
    const length = data.startsWith('\u001B[', index) ? 3 : 1
    const key = keyOf(data.slice(index, index + length))
    if (key) keys.push(key)
    index += length
  }
  return keys
}

/** One key's raw input → picker key (arrows, j/k, space, a, enter; q, Escape, Ctrl-C cancel). */
export function keyOf(data: string): PickerKey | undefined {
  if (data === '\u001B[A' || data === 'k') return 'up'
  if (data === '\u001B[B' || data === 'j') return 'down'
  if (data === ' ') return 'toggle'
  if (data === 'a') return 'all'
  if (data === '\r' || data === '\n') return 'confirm'
  if (data === 'q' || data === '\u001B' || data === '\u0003') return 'cancel'
  return undefined
}

export function selectedParts(state: PickerState): Part[] {
  return state.parts.filter((part) => state.selected.has(part))
}
