import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {renderTable} from '../../src/render/table.js'

describe('renderTable', () => {
  it('draws a plain table (no escape codes), numbers right-aligned, empty cells for null', () => {
    const out = renderTable(['state', 'count'], [['active', 3], ['idle in transaction', 12], ['other', null]], {numeric: [1], title: 'By state'})
    assert.ok(!out.includes('\u001b['), 'no ANSI escape codes')
    const lines = out.split('\n')
    assert.equal(lines[0], 'By state')
    assert.ok(lines.some((line) => /│ active\s+│\s+3 │/.test(line)), out)
    assert.ok(lines.some((line) => /│ other\s+│\s+│/.test(line)), out)
  })
})
