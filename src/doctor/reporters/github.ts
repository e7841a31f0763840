import type {Reporter} from './index.js'

const COMMAND = {error: 'error', info: 'notice', warning: 'warning'} as const

/** GitHub Actions workflow commands: `::error file=F,line=L,col=C,title=T::message`, paths repo-relative. */
export const github: Reporter = (result) =>
  result.diagnostics
    .map(
      (d) =>
        `::${COMMAND[d.severity]} file=${property(d.path)},line=${d.line},col=${d.column},endLine=${d.endLine},endColumn=${d.endColumn},title=${property(d.ruleId)}::${data(d.message)}`,
    )
    .join('\n')

/** Escaping as in @actions/core's command.ts. */
function data(value: string): string {
  return value.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}

function property(value: string): string {
  return data(value).replaceAll(':', '%3A').replaceAll(',', '%2C')
}
