import assert from 'node:assert/strict'
import {closeSync, openSync, readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {createLogger} from '../../src/cli/logger.js'
import {clearRegisteredSecrets, registerSecret} from '../../src/cli/redact.js'

const HOSTILE = 'p#a@s%s`w\'o"rd'

describe('createLogger', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'poolctl-log-'))
  })
  after(async () => {
    clearRegisteredSecrets()
    await rm(dir, {force: true, recursive: true})
  })

  async function capture(level: 'debug' | 'warn', write: (logger: Awaited<ReturnType<typeof createLogger>>) => void) {
    const file = join(dir, `${Math.random()}.log`)
    const fd = openSync(file, 'w')
    const logger = await createLogger({fd, level})
    write(logger)
    closeSync(fd)
    return readFileSync(file, 'utf8')
  }

  it('writes one JSON object per line, at and above the level', async () => {
    const out = await capture('warn', (logger) => {
      logger.debug('hidden')
      logger.warn({n: 1}, 'shown')
    })
    const records = out.trim().split('\n').map((line) => JSON.parse(line))
    assert.equal(records.length, 1)
    assert.equal(records[0].msg, 'shown')
    assert.equal(records[0].name, 'poolctl')
    assert.equal(records[0].level, 40)
  })

  it('redacts password/url fields, URLs and password= in messages and errors', async () => {
    registerSecret(HOSTILE)
    const url = `postgres://app:${encodeURIComponent(HOSTILE)}@db:5432/app`
    const out = await capture('debug', (logger) => {
      logger.debug({config: {connectionString: url, password: HOSTILE}, password: 'plain-secret', url}, 'connecting to %s', url)
      logger.error({err: new Error(`Invalid URL: postgres://app:${HOSTILE}@db/app password=another-secret`)}, 'failed')
      logger.info(`raw secret ${HOSTILE} in a message`)
    })
    for (const secret of [HOSTILE, encodeURIComponent(HOSTILE), 'plain-secret', 'another-secret', 's%s']) {
      assert.ok(!out.includes(secret), `${secret} leaked: ${out}`)
    }
    const [first, second] = out.trim().split('\n').map((line) => JSON.parse(line))
    assert.equal(first.url, 'postgres://app:***@db:5432/app')
    assert.equal(first.config.password, '***')
    assert.equal(first.msg, 'connecting to postgres://app:***@db:5432/app')
    assert.equal(second.err.type, 'Error')
    assert.match(second.err.stack, /Invalid URL/)
  })
})
