import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {ConfigError, buildConfig, buildConfigs, parsePhases, totalDurationMs} from '../../src/simulate/config.js'
import {lognormalParameters} from '../../src/simulate/distributions.js'

function problems(raw: Record<string, unknown>): string[] {
  try {
    buildConfigs(raw)
  } catch (error) {
    assert.ok(error instanceof ConfigError)
    return error.problems
  }
  assert.fail('expected a ConfigError')
}

describe('simulate config', () => {
  it('defaults: the 20 s spike scenario on 10 connections, database mode', () => {
    const config = buildConfig({})
    assert.equal(config.mode, 'database')
    assert.equal(config.connections, 10)
    assert.equal(config.maxActive, 10)
    assert.equal(config.queueSize, 100)
    assert.equal(totalDurationMs(config), 20_000)
  })

  it('one problem per bad field, each naming the field and the value', () => {
    const found = problems({connections: '0', 'service-time': '50', 'queue-size': 'lots', bogus: 1})
    assert.equal(found.length, 4)
    assert.match(found.join('\n'), /connections: .*got `0`/)
    assert.match(found.join('\n'), /service-time: .*unit.*got `50`/)
    assert.match(found.join('\n'), /queue-size: .*got `lots`/)
    assert.match(found.join('\n'), /unknown field `bogus`/)
  })

  it('phases and rate/duration are exclusive; a lognormal p99 must fit a lognormal', () => {
    assert.match(problems({phases: 'steady:1s@10', rate: '5'}).join(), /either phases or rate/)
    assert.match(problems({'service-time': '10ms', 'service-p99': '1s', 'service-dist': 'lognormal'}).join(), /between 1× and 14×/)
    assert.match(problems({'service-p99': '100ms'}).join(), /only applies to --service-dist lognormal/)
  })

  it('parses phases from a string or a list of objects', () => {
    assert.deepEqual(parsePhases('steady:10s@100,ramp:5s@100-400,spike:3s@1000'), [
      {kind: 'steady', durationMs: 10_000, rate: 100, toRate: 100},
      {kind: 'ramp', durationMs: 5000, rate: 100, toRate: 400},
      {kind: 'spike', durationMs: 3000, rate: 1000, toRate: 1000},
    ])
    assert.deepEqual(parsePhases([{kind: 'ramp', duration: '2s', rate: 1, to: 9}]), [{kind: 'ramp', durationMs: 2000, rate: 1, toRate: 9}])
    assert.throws(() => parsePhases('ramp:5s@100'), /ramp needs from-to/)
  })

  it('compare mode: one field with several values gives one config per value', () => {
    const {configs, varied} = buildConfigs({connections: '5,10,20', virtual: true})
    assert.equal(varied, 'connections')
    assert.deepEqual(
      configs.map((c) => c.connections),
      [5, 10, 20],
    )
    assert.match(problems({connections: '5,10', rate: '1,2'}).join(), /only one field/)
    assert.match(problems({seed: '1,2'}).join(), /seed: only/)
  })

  it('lognormal parameters reproduce the requested mean and p99', () => {
    const {mu, sigma} = lognormalParameters(50, 200)
    assert.ok(Math.abs(Math.exp(mu + (sigma * sigma) / 2) - 50) < 1e-9)
    assert.ok(Math.abs(Math.exp(mu + 2.326_347_874 * sigma) - 200) < 1e-6)
  })
})
