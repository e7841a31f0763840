import type {Reporter} from './index.js'
import {oneLine, summaryLine} from './text.js'

const LABEL = {error: 'Error', info: 'Info', warning: 'Warning'} as const

/** VS Code's `$eslint-compact` line: `/abs/file.ts: line 12, col 7, Error - message (rule-id)`. */
export const compact: Reporter = (result) => {
  const lines = result.diagnostics.map(
    (d) => `${d.file}: line ${d.line}, col ${d.column}, ${LABEL[d.severity]} - ${oneLine(d.message)} (${d.ruleId})`,
  )
  if (lines.length > 0) lines.push('', summaryLine(result))
  return lines.join('\n')
}
