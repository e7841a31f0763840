import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {describe, it} from 'node:test'

import {advisoryKeys} from '../../src/unlock/advisory.js'
import {askOnTerminal} from '../../src/unlock/confirm.js'
import {crc32, fnv1_32, javaStringHashCode, uint32Multiply} from '../../src/unlock/hash.js'

// Expected values computed independently (Python's zlib.crc32, a reference FNV-1 and
// String.hashCode loop), not with the functions under test.
describe('hash functions behind other tools\' lock keys', () => {
  it('crc32 is IEEE CRC-32', () => {
    assert.equal(crc32('123456789'), 0xcb_f4_39_26)
    assert.equal(crc32(''), 0)
    assert.equal(crc32('app'), 3_379_458_255)
  })

  it('fnv1_32 is FNV-1 (not FNV-1a), as Go\'s hash/fnv.New32', () => {
    assert.equal(fnv1_32(''), 0x81_1c_9d_c5)
    assert.equal(fnv1_32('a'), 0x05_0c_5d_7e)
  })

  it('javaStringHashCode overflows like Java', () => {
    assert.equal(javaStringHashCode('hello'), 99_162_322)
    assert.equal(javaStringHashCode('Aa'), javaStringHashCode('BB'))
    assert.equal(javaStringHashCode('"public"."flyway_schema_history"'), 2_125_624_436)
  })

  it('uint32Multiply truncates like Go', () => {
    assert.equal(uint32Multiply(0xff_ff_ff_ff, 2), 0xff_ff_ff_fe)
  })
})

describe('advisory keys', () => {
  const keys = advisoryKeys({database: 'app', schemas: ['public']})
  const find = (tool: string, variant?: RegExp) =>
    keys.filter((key) => key.tool === tool && (!variant || variant.test(key.variant))).map((key) => key.key)

  it('fixed keys from each tool\'s source', () => {
    assert.deepEqual(find('node-pg-migrate'), [7_241_865_325_823_964n])
    assert.deepEqual(find('Prisma Migrate'), [72_707_369n])
    assert.deepEqual(find('graphile-migrate'), [4_727_445_306_447_283n])
    assert.deepEqual(find('Kysely'), [3_853_314_791_062_309_107n])
    assert.deepEqual(find('Atlas'), [2_686_470_616n])
  })

  it('computed keys: Rails (database), golang-migrate (schema, table, database), Flyway (history table)', () => {
    assert.deepEqual(find('Rails'), [6_939_591_962_871_035_475n])
    assert.ok(find('golang-migrate', /^schema "public".*database "app"$/).includes(1_787_120_056n))
    assert.deepEqual(find('Flyway'), [77_433_833_903_597n])
  })
})

describe('askOnTerminal', () => {
  const tty = () => {
    const input = Object.assign(new PassThrough(), {isTTY: true})
    const output = Object.assign(new PassThrough(), {isTTY: true})
    return {input, output}
  }

  it('only "y" or "yes" is a yes', async () => {
    for (const [line, expected] of [['y\n', 'yes'], ['YES\n', 'yes'], ['\n', 'no'], ['n\n', 'no'], ['yep\n', 'no']] as const) {
      const streams = tty()
      const answer = askOnTerminal('Go ahead? ', streams)
      streams.input.write(line)
      assert.equal(await answer, expected, JSON.stringify(line))
    }
  })

  it('end of input is a no; without a TTY nobody is asked', async () => {
    const streams = tty()
    const answer = askOnTerminal('Go ahead? ', streams)
    streams.input.end()
    assert.equal(await answer, 'no')
    assert.equal(await askOnTerminal('Go ahead? ', {input: new PassThrough(), output: new PassThrough()}), 'no-tty')
  })
})
