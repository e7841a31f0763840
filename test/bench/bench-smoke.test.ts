import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {describe, it} from 'node:test'

import {PROJECT_ROOT} from '../support/cli.js'

// Keeps bench/ from rotting: a quick pass of one scenario must run every contender without throwing.
// It asserts no timing: speed claims live in `npm run bench`, not in the test suite.
describe('bench smoke', () => {
  it('bench/run.js --quick --only pool-cycles runs every contender cleanly', () => {
    const run = spawnSync(process.execPath, ['dist/bench/run.js', '--quick', '--only', 'pool-cycles', '--no-write'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    })
    assert.equal(run.status, 0, run.stderr)
    for (const contender of ['poolctl', 'tarn', 'generic-pool', 'pg-pool', 'minimal pool']) {
      assert.ok(run.stdout.includes(contender), `${contender} appears in the table`)
    }
  })
})
