import {relative} from 'node:path'

import type {Reporter} from './index.js'
import {oneLine} from './text.js'

const LABEL = {error: 'error', info: 'note', warning: 'warning'} as const

/** `path:line:col: warning: message [rule-id]`, paths relative to the working directory, as compilers print them. */
export const gcc: Reporter = (result, {cwd}) =>
  result.diagnostics
    .map((d) => `${relative(cwd, d.file) || d.file}:${d.line}:${d.column}: ${LABEL[d.severity]}: ${oneLine(d.message)} [${d.ruleId}]`)
    .join('\n')
