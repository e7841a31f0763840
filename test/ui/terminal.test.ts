import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {isContinuousIntegration, isInteractiveTerminal} from '../../src/ui/terminal.js'

const tty = {stdin: {isTTY: true}, stdout: {isTTY: true}}

describe('isInteractiveTerminal', () => {
  it('needs a terminal on stdin and stdout, and a TERM that can move the cursor', () => {
    assert.equal(isInteractiveTerminal(tty, {TERM: 'xterm-256color'}), true)
    assert.equal(isInteractiveTerminal({...tty, stdout: {isTTY: false}}, {}), false, 'a pipe gets plain text')
    assert.equal(isInteractiveTerminal({...tty, stdin: {}}, {}), false, 'no keys without a terminal on stdin')
    assert.equal(isInteractiveTerminal(tty, {TERM: 'dumb'}), false)
  })

  it('a terminal inside CI gets plain text: ink would draw nothing there', () => {
    assert.equal(isInteractiveTerminal(tty, {CI: 'true'}), false)
    assert.equal(isInteractiveTerminal(tty, {CI_PIPELINE_ID: '7'}), false)
    assert.equal(isContinuousIntegration({CI: 'false'}), false)
    assert.equal(isContinuousIntegration({CI: '0'}), false)
    assert.equal(isContinuousIntegration({CONTINUOUS_INTEGRATION: '1'}), true)
    assert.equal(isContinuousIntegration({}), false)
  })
})
