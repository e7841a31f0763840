/** Reporters format data only: exact output for a fixed result (snapshot-style, inline). */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import type {DoctorResult} from '../../src/doctor/doctor.js'
import {REPORTERS} from '../../src/doctor/reporters/index.js'
import {RULES} from '../../src/doctor/rules/index.js'

const rule = (id: string) => RULES.find((candidate) => candidate.id === id)!

const RESULT: DoctorResult = {
  configSource: undefined,
  counts: {error: 1, info: 0, warning: 1},
  diagnostics: [
    {column: 14, endColumn: 71, endLine: 4, file: '/repo/src/workers/email.js', line: 4, message: 'builds a pool, outside: the shared one', path: 'src/workers/email.js', ruleId: 'separate-pool', severity: 'error'},
    {column: 3, endColumn: 9, endLine: 7, file: '/repo/src/a b.js', line: 7, message: '100% of\nrows', path: 'src/a b.js', ruleId: 'query-in-loop', severity: 'warning'},
  ],
  filesScanned: 2,
  root: '/repo',
  rules: [{rule: rule('separate-pool'), severity: 'error'}, {rule: rule('query-in-loop'), severity: 'warning'}],
  warnings: [],
}
const OPTIONS = {cwd: '/repo/src', version: '0.1.0'}

describe('doctor reporters', () => {
  it('compact', () => {
    assert.equal(
      REPORTERS.compact(RESULT, OPTIONS),
      [
        '/repo/src/workers/email.js: line 4, col 14, Error - builds a pool, outside: the shared one (separate-pool)',
        '/repo/src/a b.js: line 7, col 3, Warning - 100% of rows (query-in-loop)',
        '',
        '2 problems (1 error, 1 warning)',
      ].join('\n'),
    )
    assert.equal(REPORTERS.compact({...RESULT, counts: {error: 0, info: 0, warning: 0}, diagnostics: []}, OPTIONS), '')
  })

  it('gcc: paths relative to the working directory', () => {
    assert.equal(
      REPORTERS.gcc(RESULT, OPTIONS),
      'workers/email.js:4:14: error: builds a pool, outside: the shared one [separate-pool]\na b.js:7:3: warning: 100% of rows [query-in-loop]',
    )
  })

  it('github: workflow commands with escaped properties and data', () => {
    assert.equal(
      REPORTERS.github(RESULT, OPTIONS),
      [
        '::error file=src/workers/email.js,line=4,col=14,endLine=4,endColumn=71,title=separate-pool::builds a pool, outside: the shared one',
        '::warning file=src/a b.js,line=7,col=3,endLine=7,endColumn=9,title=query-in-loop::100%25 of%0Arows',
      ].join('\n'),
    )
    // a file name with the property separators `,` and `:` (and a CR in the message) cannot break the command
    const odd = {...RESULT.diagnostics[1], message: 'a\r\nb: c, d', path: 'src/x,y:z%.js'}
    assert.equal(
      REPORTERS.github({...RESULT, diagnostics: [odd]}, OPTIONS),
      '::warning file=src/x%2Cy%3Az%25.js,line=7,col=3,endLine=7,endColumn=9,title=query-in-loop::a%0D%0Ab: c, d',
    )
  })

  it('json', () => {
    const json = JSON.parse(REPORTERS.json(RESULT, OPTIONS))
    assert.deepEqual(Object.keys(json), ['root', 'config', 'filesScanned', 'rules', 'counts', 'diagnostics'])
    assert.deepEqual(json.rules, [{id: 'separate-pool', severity: 'error'}, {id: 'query-in-loop', severity: 'warning'}])
    assert.deepEqual(json.diagnostics[1], RESULT.diagnostics[1])
  })

  it('sarif: rules with default levels, results with ruleIndex, encoded repo-relative URIs', () => {
    const log = JSON.parse(REPORTERS.sarif(RESULT, OPTIONS))
    assert.equal(log.version, '2.1.0')
    const run = log.runs[0]
    assert.deepEqual(run.tool.driver.rules.map((r: {id: string; defaultConfiguration: {level: string}}) => [r.id, r.defaultConfiguration.level]), [['separate-pool', 'error'], ['query-in-loop', 'warning']])
    for (const r of run.tool.driver.rules) {
      assert.ok(r.shortDescription.text.length > 0 && r.fullDescription.text.includes(`docs/rules/${r.id}.md`), JSON.stringify(r))
    }
    assert.deepEqual(run.originalUriBaseIds, {'%SRCROOT%': {uri: 'file:///repo/'}})
    assert.deepEqual(run.results[1], {
      level: 'warning',
      locations: [{physicalLocation: {artifactLocation: {uri: 'src/a%20b.js', uriBaseId: '%SRCROOT%'}, region: {endColumn: 9, endLine: 7, startColumn: 3, startLine: 7}}}],
      message: {text: '100% of\nrows'},
      ruleId: 'query-in-loop',
      ruleIndex: 1,
    })
    const odd = JSON.parse(REPORTERS.sarif({...RESULT, diagnostics: [{...RESULT.diagnostics[0], path: 'src/#1 ?.js'}]}, OPTIONS))
    assert.equal(odd.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri, 'src/%231%20%3F.js')
  })
})
