/**
 * `// poolctl-ignore rule-a, rule-b` silences those rules on the next line; `// poolctl-ignore-file
 * rule` silences them in the whole file. No rule names = every rule; text after `--` is a reason.
 * Comments are found through the syntax tree (leading comment ranges), so a string that merely contains
 * the words does not count.
 */
import ts from 'typescript'

export interface Suppressions {
  /** Rules ignored in the whole file ('*' = all). */
  file: Set<string>
  /** Line (1-based) → rules ignored on it. */
  lines: Map<number, Set<string>>
}

const DIRECTIVE = /^\s*(?:\/\/|\/\*+)\s*poolctl-ignore(-file)?(?=\s|\*\/|$)([^]*?)(?:\*\/)?\s*$/

export function readSuppressions(source: ts.SourceFile): Suppressions | undefined {
  const text = source.text
  if (!text.includes('poolctl-ignore')) return undefined
  const suppressions: Suppressions = {file: new Set(), lines: new Map()}
  const seen = new Set<number>()
  const visit = (node: ts.Node): void => {
    for (const range of ts.getLeadingCommentRanges(text, node.pos) ?? []) {
      if (seen.has(range.pos)) continue
      seen.add(range.pos)
      const match = DIRECTIVE.exec(text.slice(range.pos, range.end))
      if (match === null) continue
      const names = match[2].split('--')[0].split(/[\s,]+/).filter(Boolean)
      const rules = names.length === 0 ? ['*'] : names
      if (match[1]) {
        for (const rule of rules) suppressions.file.add(rule)
      } else {
        const nextLine = source.getLineAndCharacterOfPosition(range.end).line + 2
        const set = suppressions.lines.get(nextLine) ?? new Set()
        for (const rule of rules) set.add(rule)
        suppressions.lines.set(nextLine, set)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return suppressions
}

export function isSuppressed(suppressions: Suppressions | undefined, ruleId: string, line: number): boolean {
  if (suppressions === undefined) return false
  if (suppressions.file.has('*') || suppressions.file.has(ruleId)) return true
  const onLine = suppressions.lines.get(line)
  return onLine !== undefined && (onLine.has('*') || onLine.has(ruleId))
}
