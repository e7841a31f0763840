import type {Reporter} from './index.js'

/** The result as data: one object, stable keys (documented in docs/doctor.md). */
export const json: Reporter = (result) =>
  JSON.stringify(
    {
      root: result.root,
      config: result.configSource ?? null,
      filesScanned: result.filesScanned,
      rules: result.rules.map(({rule, severity}) => ({id: rule.id, severity})),
      counts: result.counts,
      diagnostics: result.diagnostics,
    },
    null,
    2,
  )
