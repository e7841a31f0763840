/**
 * A unified diff (`diff -u` layout, 3 lines of context) of two texts, for `poolctl init --diff`.
 * Longest common subsequence over lines: generated files are a few hundred lines, so the O(n·m)
 * table stays small, and the output is the minimal edit.
 */
export function unifiedDiff(oldText: string, newText: string, oldName: string, newName: string, context = 3): string {
  const a = splitLines(oldText)
  const b = splitLines(newText)
  const lcs: number[][] = Array.from({length: a.length + 1}, () => new Array<number>(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
  }
  type Line = {kind: ' ' | '-' | '+'; text: string; oldLine: number; newLine: number}
  const lines: Line[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) lines.push({kind: ' ', newLine: j++, oldLine: i++, text: a[i - 1]})
    else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) lines.push({kind: '-', newLine: j, oldLine: i++, text: a[i - 1]})
    else lines.push({kind: '+', newLine: j++, oldLine: i, text: b[j - 1]})
  }
  const changed = lines.flatMap((line, index) => (line.kind === ' ' ? [] : [index]))
  if (changed.length === 0) return ''
  const out = [`--- ${oldName}`, `+++ ${newName}`]
  let start = 0
  while (start < changed.length) {
    let end = start
    while (end + 1 < changed.length && changed[end + 1] - changed[end] <= 2 * context) end++
    const from = Math.max(0, changed[start] - context)
    const to = Math.min(lines.length, changed[end] + context + 1)
    const hunk = lines.slice(from, to)
    const oldCount = hunk.filter((line) => line.kind !== '+').length
    const newCount = hunk.filter((line) => line.kind !== '-').length
    const oldStart = oldCount === 0 ? hunk[0].oldLine : hunk[0].oldLine + 1
    const newStart = newCount === 0 ? hunk[0].newLine : hunk[0].newLine + 1
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`, ...hunk.map((line) => `${line.kind}${line.text}`))
    start = end + 1
  }
  return `${out.join('\n')}\n`
}

function splitLines(text: string): string[] {
  if (text.length === 0) return []
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines
}
