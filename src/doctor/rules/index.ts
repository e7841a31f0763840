/** Every doctor rule. One rule = one file here + docs/rules/<id>.md + its tests in test/doctor/rules.test.ts. */
import type {Rule} from '../types.js'
import {rule as forceFreeLock} from './force-free-lock.js'
import {rule as migrateRetryLoop} from './migrate-retry-loop.js'
import {rule as missingAcquireTimeout} from './missing-acquire-timeout.js'
import {rule as missingApplicationName} from './missing-application-name.js'
import {rule as missingIdleTimeout} from './missing-idle-timeout.js'
import {rule as poolMinNonzero} from './pool-min-nonzero.js'
import {rule as poolOversized} from './pool-oversized.js'
import {rule as poolUndersized} from './pool-undersized.js'
import {rule as queryInLoop} from './query-in-loop.js'
import {rule as raceTimeout} from './race-timeout.js'
import {rule as separatePool} from './separate-pool.js'
import {rule as unreleasedClient} from './unreleased-client.js'

export const RULES: readonly Rule[] = [
  separatePool,
  poolUndersized,
  poolOversized,
  missingAcquireTimeout,
  missingIdleTimeout,
  poolMinNonzero,
  unreleasedClient,
  raceTimeout,
  forceFreeLock,
  migrateRetryLoop,
  missingApplicationName,
  queryInLoop,
]

export const RULE_IDS: readonly string[] = RULES.map((rule) => rule.id)
