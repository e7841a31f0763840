import {pathToFileURL} from 'node:url'

import type {Reporter} from './index.js'

const LEVEL = {error: 'error', info: 'note', warning: 'warning'} as const

/**
 * SARIF 2.1.0 as GitHub code scanning reads it: `tool.driver.rules` (every active rule, with its
 * default level), results with `ruleId`/`ruleIndex`, repo-relative `artifactLocation.uri` against
 * `%SRCROOT%`, and 1-based regions.
 */
export const sarif: Reporter = (result, {version}) => {
  const ruleIndex = new Map(result.rules.map(({rule}, index) => [rule.id, index]))
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'poolctl',
            semanticVersion: version,
            version,
            rules: result.rules.map(({rule, severity}) => ({
              id: rule.id,
              shortDescription: {text: rule.summary},
              // No helpUri: poolctl has no public home to point at yet; the help names the doc page instead.
              fullDescription: {text: `${rule.summary} Problem, fix and examples: docs/rules/${rule.id}.md in poolctl.`},
              help: {text: `${rule.summary} See docs/rules/${rule.id}.md in poolctl.`},
              defaultConfiguration: {level: LEVEL[severity]},
            })),
          },
        },
        originalUriBaseIds: {'%SRCROOT%': {uri: `${pathToFileURL(result.root).href.replace(/\/?$/, '/')}`}},
        results: result.diagnostics.map((d) => ({
          ruleId: d.ruleId,
          ruleIndex: ruleIndex.get(d.ruleId) ?? -1,
          level: LEVEL[d.severity],
          message: {text: d.message},
          locations: [
            {
              physicalLocation: {
                artifactLocation: {uri: relativeUri(d.path), uriBaseId: '%SRCROOT%'},
                region: {startLine: d.line, startColumn: d.column, endLine: d.endLine, endColumn: d.endColumn},
              },
            },
          ],
        })),
      },
    ],
  }
  return JSON.stringify(log, null, 2)
}

/** Each segment percent-encoded: encodeURI would leave `#` and `?`, which start a fragment or a query. */
function relativeUri(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}
