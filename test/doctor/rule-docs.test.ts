/** One rule = one file in src/doctor/rules + one page in docs/rules + a README entry, all named by its id. */
import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {RULES} from '../../src/doctor/rules/index.js'
import {PROJECT_ROOT} from '../support/cli.js'

const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8')
const DOCTOR_SECTION = README.slice(README.indexOf('### `poolctl doctor`'), README.indexOf('\n### ', README.indexOf('### `poolctl doctor`') + 1))

describe('doctor rules: ids, files, docs, README', () => {
  it('the 12 rules of issue 7, ids unique', () => {
    assert.deepEqual([...RULES.map((rule) => rule.id)].sort(), [
      'force-free-lock', 'migrate-retry-loop', 'missing-acquire-timeout', 'missing-application-name', 'missing-idle-timeout',
      'pool-min-nonzero', 'pool-oversized', 'pool-undersized', 'query-in-loop', 'race-timeout', 'separate-pool', 'unreleased-client',
    ])
  })

  it('rule id = file name in src/doctor/rules = doc slug in docs/rules, and nothing else lives there', () => {
    const sources = readdirSync(join(PROJECT_ROOT, 'src', 'doctor', 'rules')).filter((name) => name !== 'index.ts').map((name) => name.replace(/\.ts$/, ''))
    const docs = readdirSync(join(PROJECT_ROOT, 'docs', 'rules')).map((name) => name.replace(/\.md$/, ''))
    const ids = RULES.map((rule) => rule.id).sort()
    assert.deepEqual(sources.sort(), ids)
    assert.deepEqual(docs.sort(), ids)
  })

  for (const rule of RULES) {
    it(`${rule.id}: doc page with Problem / Solution / Example and the default severity; README entry with an example`, () => {
      const path = join(PROJECT_ROOT, 'docs', 'rules', `${rule.id}.md`)
      assert.ok(existsSync(path), `missing docs/rules/${rule.id}.md`)
      const doc = readFileSync(path, 'utf8')
      assert.match(doc, new RegExp(`^# ${rule.id}\\n`))
      for (const heading of ['## Problem', '## Solution', '## Example']) assert.ok(doc.includes(heading), `${rule.id}.md lacks ${heading}`)
      assert.ok(doc.includes(`Default severity: **${rule.defaultSeverity}**`), `${rule.id}.md does not state its default severity ${rule.defaultSeverity}`)
      assert.ok(DOCTOR_SECTION.includes(`[\`${rule.id}\`](docs/rules/${rule.id}.md)`), `README's doctor section does not list ${rule.id}`)
    })
  }
})
