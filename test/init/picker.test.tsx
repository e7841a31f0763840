/**
 * Choosing parts on a terminal, in its three layers: the reducer (no React), the ink component
 * (props only, ink-testing-library), and the real CLI under a pseudo-terminal (util-linux `script`).
 */
import assert from 'node:assert/strict'
import {readdir, rm} from 'node:fs/promises'
import {after, describe, it} from 'node:test'

import {render} from 'ink-testing-library'

import {PARTS} from '../../src/init/files.js'
import {PartPicker} from '../../src/init/picker/components.js'
import {initialPicker, keyOf, keysOf, reducePicker, selectedParts} from '../../src/init/picker/state.js'
import {HAS_SCRIPT, spawnOnTerminal, typeOnceShown} from '../support/cli.js'
import {createFixture, JS_ESM} from './support.js'

describe('init picker: state', () => {
  it('moves, wraps, toggles, selects all; confirm needs at least one part; cancel ends it', () => {
    let state = initialPicker(PARTS, ['pool', 'ci'])
    state = reducePicker(state, 'up')
    assert.equal(state.cursor, PARTS.length - 1)
    state = reducePicker(reducePicker(state, 'down'), 'toggle')
    assert.deepEqual(selectedParts(state), ['ci'])
    state = reducePicker(state, 'all')
    assert.deepEqual(selectedParts(state), [...PARTS])
    state = reducePicker(state, 'all')
    assert.deepEqual(selectedParts(state), [])
    assert.equal(reducePicker(state, 'confirm').outcome, 'open')
    assert.equal(reducePicker(reducePicker(state, 'toggle'), 'confirm').outcome, 'done')
    const cancelled = reducePicker(state, 'cancel')
    assert.equal(cancelled.outcome, 'cancelled')
    assert.equal(reducePicker(cancelled, 'toggle'), cancelled, 'a finished picker ignores keys')
  })

  it('maps raw terminal input to keys', () => {
    assert.deepEqual(['\u001B[A', '\u001B[B', ' ', 'a', '\r', 'q', '\u0003', 'x'].map(keyOf), ['up', 'down', 'toggle', 'all', 'confirm', 'cancel', 'cancel', undefined])
  })

  it('splits one chunk holding several keys (fast typing, a paste, a busy machine) into all of them', () => {
    assert.deepEqual(keysOf('aa \r'), ['all', 'all', 'toggle', 'confirm'])
    assert.deepEqual(keysOf('\u001B[B\u001B[Bx \u001B'), ['down', 'down', 'toggle', 'cancel'])
  })
})

describe('init picker: component', () => {
  it('renders every part with its check box and the cursor from props', () => {
    const {lastFrame, unmount} = render(<PartPicker cursor={1} parts={PARTS} selected={new Set(['pool'] as const)} />)
    const frame = lastFrame() ?? ''
    unmount()
    assert.match(frame, /Scaffold which parts\?/)
    assert.match(frame, /\[x\] pool/)
    assert.match(frame, /› \[ \] monitoring/)
    for (const part of PARTS) assert.ok(frame.includes(part), part)
  })
})


describe('init picker: on a real terminal', {skip: HAS_SCRIPT ? false : 'util-linux `script` is not installed'}, () => {
  const dirs: string[] = []
  after(async () => {
    for (const dir of dirs) await rm(dir, {force: true, recursive: true})
  })

  function onTerminal(dir: string, keys: string[]): Promise<{code: number | null; output: string}> {
    return typeOnceShown(spawnOnTerminal(['init', '--dir', dir]), (output) => output.includes('Scaffold which parts?'), keys)
  }

  it('"a" (none), space on the first part (pool), enter: writes only the pool files', async () => {
    const dir = await createFixture(JS_ESM)
    dirs.push(dir)
    // --yes preselects all but pgbouncer; "a" toggles to all, "a" again to none
    const {code, output} = await onTerminal(dir, ['a', 'a', ' ', '\r'])
    assert.equal(code, 0, output)
    assert.match(output, /create\s+db\/pool\.js/)
    assert.deepEqual((await readdir(dir)).sort(), ['db', 'knexfile.js', 'package.json'])
  })

  it('q cancels: nothing written, exit 1', async () => {
    const dir = await createFixture(JS_ESM)
    dirs.push(dir)
    const {code, output} = await onTerminal(dir, ['q'])
    assert.equal(code, 1, output)
    assert.match(output, /cancelled: nothing was written/)
    assert.deepEqual(await readdir(dir), ['package.json'])
  })
})
