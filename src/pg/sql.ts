/**
 * The only ways user input reaches SQL text. Values never do: they are `$n` parameters. Names a user
 * gives (`--schema`, `--table`) become quoted identifiers; pids are parsed into integers first.
 */

/** `name` as a quoted identifier: `my"table` → `"my""table"`. Case and odd characters are kept. */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('An SQL identifier must be a non-empty string')
  if (name.includes('\0')) throw new TypeError('An SQL identifier cannot contain a NUL character')
  return `"${name.replaceAll('"', '""')}"`
}

/** `schema.table` with both parts quoted; just the table when no schema is given. */
export function qualifiedName(schema: string | undefined, table: string): string {
  return schema === undefined ? quoteIdent(table) : `${quoteIdent(schema)}.${quoteIdent(table)}`
}

/** A backend pid from user input: a positive 32-bit integer written in decimal digits, or undefined. */
export function parsePid(input: string | number): number | undefined {
  const text = String(input).trim()
  if (!/^\d{1,10}$/.test(text)) return undefined
  const pid = Number(text)
  return pid >= 1 && pid <= 2_147_483_647 ? pid : undefined
}
