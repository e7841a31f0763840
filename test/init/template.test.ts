/** The template renderer and the unified diff of poolctl init. */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {unifiedDiff} from '../../src/init/diff.js'
import {renderTemplate, TEMPLATES_DIR} from '../../src/init/template.js'

describe('init: renderTemplate', () => {
  it('fills values and keeps or drops sections; standalone section lines leave no blank line', () => {
    const template = 'a {{x}}\n{{#on}}\nkept {{y}}\n{{/on}}\n{{^on}}\ndropped\n{{/on}}\nend{{#off}} never{{/off}}{{^off}} inline{{/off}}\n'
    assert.equal(renderTemplate(template, {off: false, on: true, x: 1, y: 'two'}), 'a 1\nkept two\nend inline\n')
  })

  it('nested sections of different names', () => {
    assert.equal(renderTemplate('{{#a}}A{{#b}}B{{/b}}{{^b}}b{{/b}}{{/a}}', {a: true, b: false}), 'Ab')
  })

  it('a missing value is an error, never an empty string', () => {
    assert.throws(() => renderTemplate('{{nope}}', {}), /`nope` is missing/)
    assert.throws(() => renderTemplate('{{#nope}}x{{/nope}}', {}), /`nope` is missing/)
  })

  it("leaves Prometheus' and Grafana's own {{ $labels.x }} / {{ label }} alone", () => {
    assert.equal(renderTemplate('{{ $labels.instance }} {{ state }}', {}), '{{ $labels.instance }} {{ state }}')
  })

  it('every template in templates/ uses only section tags that close', () => {
    const walk = (dir: string): string[] => readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)]))
    const files = walk(TEMPLATES_DIR)
    assert.ok(files.length >= 12, `found ${files.length} templates`)
    for (const file of files) {
      const text = readFileSync(file, 'utf8')
      const opened = [...text.matchAll(/\{\{[#^]([\w-]+)\}\}/g)].length
      const closed = [...text.matchAll(/\{\{\/([\w-]+)\}\}/g)].length
      assert.equal(opened, closed, file)
    }
  })
})

describe('init: unifiedDiff', () => {
  it('is empty for equal texts', () => {
    assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', 'a/x', 'b/x'), '')
  })

  it('shows a change with its context and correct hunk header', () => {
    const old = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'].join('\n') + '\n'
    const next = old.replace('5\n', 'five\n')
    assert.equal(unifiedDiff(old, next, 'a/x', 'b/x'), ['--- a/x', '+++ b/x', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join('\n'))
  })

  it('two distant changes make two hunks; an added file diffs from nothing', () => {
    const old = Array.from({length: 30}, (_, i) => `${i}`).join('\n') + '\n'
    const next = old.replace('2\n', 'two\n').replace('27\n', 'twenty-seven\n')
    assert.equal(unifiedDiff(old, next, 'a', 'b').match(/^@@/gm)?.length, 2)
    assert.equal(unifiedDiff('', 'x\n', 'a', 'b'), '--- a\n+++ b\n@@ -0,0 +1,1 @@\n+x\n')
  })
})
