/**
 * The one table renderer of poolctl's human output (cli-table3), so every command's tables look
 * alike. Commands build rows from the same data they print with --json; this only draws them.
 * Lazy-import it: cli-table3 is not needed for --json.
 */
import Table from 'cli-table3'

export interface TableOptions {
  /** Right-align these columns (numbers). */
  numeric?: number[]
  /** Title printed above the table. */
  title?: string
}

export function renderTable(head: string[], rows: (string | number | null | undefined)[][], options: TableOptions = {}): string {
  const table = new Table({
    head,
    style: {head: [], border: []}, // no colours: output must be the same in a pipe
    colAligns: head.map((_, i) => (options.numeric?.includes(i) ? 'right' : 'left')),
  })
  for (const row of rows) table.push(row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))))
  return options.title ? `${options.title}\n${table.toString()}` : table.toString()
}
