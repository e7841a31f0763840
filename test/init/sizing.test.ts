/** The sizing calculator (src/sizing): the worked example, contradictions, and properties over random inputs. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import fc from 'fast-check'

import {type ServerCapacity, SizingError, type SizingInput, sizePools, usableSlots} from '../../src/sizing/sizing.js'

const RUNS = Number(process.env.POOLCTL_FUZZ_RUNS ?? 300)
const server = (maxConnections: number, superuserReservedConnections = 3, reservedConnections = 0): ServerCapacity => ({maxConnections, reservedConnections, source: 'flag', superuserReservedConnections})
const base: SizingInput = {apiConcurrency: 50, connectionsPerWorker: 2, instances: 1, maintenance: 3, workers: 5}

describe('sizing: the worked example', () => {
  it('50 concurrent requests + 5 tenant workers × 2 + 3 maintenance = 63 connections; fits in 97 usable', () => {
    const result = sizePools({...base, server: server(100)})
    assert.equal(result.perInstanceDemand, 60)
    assert.equal(result.demand, 63)
    assert.equal(result.usable, 97)
    assert.equal(result.verdict, 'fits')
    assert.equal(result.recommendPgBouncer, false)
    assert.equal(result.environments.find((env) => env.environment === 'production')?.max, 60)
    assert.match(result.arithmetic.join('\n'), /demand = 1 instance × 60 \+ 3 maintenance = 63 connections/)
  })

  it('the same demand against max_connections 50 exceeds: capped to what fits, PgBouncer recommended', () => {
    const result = sizePools({...base, server: server(50)})
    assert.equal(result.usable, 47)
    assert.equal(result.verdict, 'exceeds')
    assert.equal(result.productionMax, 44)
    assert.equal(result.recommendPgBouncer, true)
    assert.match(result.arithmetic.at(-1)!, /63 > 47: does NOT fit.*PgBouncer/)
  })

  it('usable slots subtract both reserves (PG 16 reserved_connections too)', () => {
    assert.equal(usableSlots(server(100, 3, 5)), 92)
    assert.equal(sizePools({...base, server: {...server(100, 3, 5), source: 'server'}}).usable, 92)
  })

  it('without server capacity the verdict is unknown and nothing is capped', () => {
    const result = sizePools(base)
    assert.equal(result.verdict, 'unknown')
    assert.equal(result.usable, null)
    assert.equal(result.productionMax, 60)
    assert.match(result.arithmetic.at(-1)!, /--max-connections/)
  })

  it('environments get profiles: test pools stay small, development capped, staging is sized like production', () => {
    const result = sizePools({...base, environments: ['development', 'test', 'staging', 'production']})
    const byName = Object.fromEntries(result.environments.map((env) => [env.environment, env]))
    assert.equal(byName.test.max, 4)
    assert.equal(byName.development.max, 10)
    assert.equal(byName.staging.max, 60)
    assert.equal(byName.staging.profile, 'production')
  })
})

describe('sizing: contradictions throw SizingError', () => {
  const cases: Array<[string, SizingInput, RegExp]> = [
    ['workers alone need more than the server has', {...base, server: server(20), workers: 10}, /--workers need 1 × 10 × 2 = 20 connections/],
    ['maintenance takes every usable slot', {...base, maintenance: 97, server: server(100)}, /--maintenance 97 leaves no slot/],
    ['max_connections below the reserves', {...base, server: server(3)}, /no usable slot/],
    ['nothing needs a connection', {...base, apiConcurrency: 0, workers: 0}, /nothing needs a connection/],
    ['more instances than slots', {...base, apiConcurrency: 1, instances: 200, server: server(100), workers: 0}, /--instances 200 cannot each get a connection/],
    ['a fraction', {...base, apiConcurrency: 1.5}, /--api-concurrency to be a whole number/],
    ['zero instances', {...base, instances: 0}, /--instances to be at least 1/],
  ]
  for (const [name, input, message] of cases) {
    it(name, () => {
      assert.throws(() => sizePools(input), (error: unknown) => error instanceof SizingError && error.code === 'BAD_SIZING' && message.test(error.message))
    })
  }
})

const inputs = fc.record({
  apiConcurrency: fc.integer({max: 500, min: 0}),
  connectionsPerWorker: fc.integer({max: 5, min: 0}),
  instances: fc.integer({max: 50, min: 1}),
  maintenance: fc.integer({max: 20, min: 0}),
  maxConnections: fc.option(fc.integer({max: 5000, min: 1}), {nil: undefined}),
  reserved: fc.integer({max: 10, min: 0}),
  workers: fc.integer({max: 20, min: 0}),
})

describe('sizing: properties', () => {
  it('either a contradiction, or: demand arithmetic holds, what is written fits the server, settings are consistent', () => {
    fc.assert(
      fc.property(inputs, ({maxConnections, reserved, ...rest}) => {
        const input: SizingInput = {...rest, server: maxConnections === undefined ? undefined : server(maxConnections, 3, reserved)}
        let result
        try {
          result = sizePools(input)
        } catch (error) {
          assert.ok(error instanceof SizingError)
          return
        }
        const perInstance = rest.apiConcurrency + rest.workers * rest.connectionsPerWorker
        assert.equal(result.demand, rest.instances * perInstance + rest.maintenance)
        if (result.usable !== null) {
          assert.equal(result.verdict, result.demand <= result.usable ? 'fits' : 'exceeds')
          assert.ok(rest.instances * result.productionMax + rest.maintenance <= result.usable, 'the written pools fit the usable slots')
          assert.equal(result.recommendPgBouncer, result.verdict === 'exceeds')
        } else {
          assert.equal(result.productionMax, perInstance)
        }
        assert.ok(result.productionMax >= 1 && result.productionMax <= perInstance)
        for (const env of result.environments) {
          assert.ok(env.min >= 0 && env.min <= env.max && env.max >= 1 && env.max <= result.productionMax)
          assert.ok(env.createTimeoutMillis < env.acquireTimeoutMillis, 'a hung connect leaves time to retry')
        }
      }),
      {numRuns: RUNS},
    )
  })

  it('more concurrency never lowers the demand', () => {
    fc.assert(
      fc.property(inputs, fc.integer({max: 100, min: 1}), ({maxConnections: _m, reserved: _r, ...rest}, extra) => {
        fc.pre(rest.apiConcurrency + rest.workers * rest.connectionsPerWorker > 0)
        assert.ok(sizePools({...rest, apiConcurrency: rest.apiConcurrency + extra}).demand > sizePools(rest).demand)
      }),
      {numRuns: RUNS},
    )
  })
})
