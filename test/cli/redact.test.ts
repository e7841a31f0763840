import assert from 'node:assert/strict'
import {afterEach, describe, it} from 'node:test'

import {clearRegisteredSecrets, redactUrl, registerSecret, scrubDeep, scrubSecrets} from '../../src/cli/redact.js'

const HOSTILE = 'p#a@s%s`w\'o"rd'

describe('redactUrl', () => {
  it('hides the password and keeps user, host, port and database', () => {
    assert.equal(redactUrl('postgres://app:hunter2@db.internal:5432/app'), 'postgres://app:***@db.internal:5432/app')
    assert.equal(redactUrl('postgresql://app:x@[::1]:5433/db?sslmode=require'), 'postgresql://app:***@[::1]:5433/db?sslmode=require')
  })

  it('leaves URLs without a password alone', () => {
    assert.equal(redactUrl('postgres://app@db:5432/app'), 'postgres://app@db:5432/app')
    assert.equal(redactUrl('postgres://db:5432/app'), 'postgres://db:5432/app')
  })

  it('handles a raw hostile password that breaks URL parsing', () => {
    const url = `postgres://user:${HOSTILE}@127.0.0.1:5432/db`
    assert.throws(() => new URL(url))
    const redacted = redactUrl(url)
    assert.equal(redacted, 'postgres://user:***@127.0.0.1:5432/db')
    for (const piece of ['#a', 's%s', '`w', 'o"rd', "'o"]) assert.ok(!redacted.includes(piece), piece)
  })

  it('handles a percent-encoded hostile password', () => {
    const url = `postgres://user:${encodeURIComponent(HOSTILE)}@host/db`
    assert.equal(redactUrl(url), 'postgres://user:***@host/db')
  })

  it('redacts password query parameters, even with a raw & in them', () => {
    assert.equal(
      redactUrl('postgres://host/db?user=a&password=se&cret&sslmode=require'),
      'postgres://host/db?user=a&password=***&sslmode=require',
    )
    assert.equal(redactUrl('postgres://host/db?sslpassword=x'), 'postgres://host/db?sslpassword=***')
  })

  it('hides a non-numeric "port" (a password typed without a user)', () => {
    assert.equal(redactUrl('postgres://host:hunter2/db'), 'postgres://host:***/db')
  })

  it('never echoes input that is not a URL', () => {
    assert.equal(redactUrl('hunter2'), '<redacted>')
    assert.equal(redactUrl(`user:${HOSTILE}@host`), '<redacted>')
  })
})

describe('scrubSecrets', () => {
  afterEach(() => clearRegisteredSecrets())

  it('redacts URLs embedded in messages (node-postgres #3145)', () => {
    const message = `TypeError: Invalid URL: 'postgres://u:${HOSTILE}@h:5432/d' at parse`
    const scrubbed = scrubSecrets(message)
    assert.ok(!scrubbed.includes('s%s'), scrubbed)
    assert.ok(scrubbed.includes('postgres://u:***@h:5432/d'), scrubbed)
  })

  it('redacts password= keywords in many spellings', () => {
    assert.equal(scrubSecrets('host=x password=hunter2 user=y'), 'host=x password=*** user=y')
    assert.equal(scrubSecrets("password='a b c' dbname=x"), 'password=*** dbname=x')
    assert.equal(scrubSecrets('{"password":"hunter2"}'), '{"password":***}')
    assert.equal(scrubSecrets('PGPASSWORD=hunter2 npm start'), 'PGPASSWORD=*** npm start')
  })

  it('does not touch "password authentication failed"', () => {
    const text = 'password authentication failed for user "app"'
    assert.equal(scrubSecrets(text), text)
  })

  it('removes registered secrets in raw, percent-encoded and JSON-escaped form', () => {
    registerSecret(HOSTILE)
    const text = `raw ${HOSTILE} enc ${encodeURIComponent(HOSTILE)} json ${JSON.stringify(HOSTILE)}`
    const scrubbed = scrubSecrets(text)
    assert.ok(!scrubbed.includes(HOSTILE))
    assert.ok(!scrubbed.includes(encodeURIComponent(HOSTILE)))
    assert.ok(!scrubbed.includes(JSON.stringify(HOSTILE).slice(1, -1)))
  })

  it('ignores secrets too short to scrub literally', () => {
    registerSecret('ab')
    assert.equal(scrubSecrets('a table about abc'), 'a table about abc')
  })
})

describe('scrubDeep', () => {
  it('scrubs nested strings and errors, keeps the error type, survives cycles', () => {
    const error = Object.assign(new Error('connect to postgres://u:topsecret@h/d failed'), {code: 'X'})
    const input: Record<string, unknown> = {list: ['password=topsecret'], nested: {error}}
    input.self = input
    const out = scrubDeep(input) as {list: string[]; nested: {error: {type: string; message: string; stack: string; code: string}}; self: unknown}
    assert.deepEqual(out.list, ['password=***'])
    assert.equal(out.nested.error.type, 'Error')
    assert.equal(out.nested.error.code, 'X')
    assert.ok(!JSON.stringify(out).includes('topsecret'))
    assert.equal(out.self, '[Circular]')
  })
})
