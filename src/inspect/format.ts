/** Small text helpers shared by findings and renderers. */

/** An age for humans: `850ms`, `12s`, `5m03s`, `2h05m`, `3d04h`. */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '?'
  if (seconds < 1) return `${Math.max(0, Math.round(seconds * 1000))}ms`
  const s = Math.floor(seconds)
  if (s < 60) return `${s}s`
  const pad = (n: number) => String(n).padStart(2, '0')
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3600))}h`
}

/** A threshold in seconds as typed on the command line: `60s`, `1.5s`, `500ms`. */
export function formatThreshold(seconds: number): string {
  return seconds < 1 ? `${Math.round(seconds * 1000)}ms` : `${Number(seconds.toFixed(3))}s`
}

/** One line, at most `max` characters (an ellipsis marks the cut). */
export function shortQuery(query: string | null | undefined, max = 60): string {
  if (!query) return ''
  const flat = query.replaceAll(/\s+/g, ' ').trim()
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10
}

/** `12.5` → `12.5 %`. */
export function formatPercent(value: number): string {
  return `${round1(value).toFixed(1)} %`
}

/** `orders-api` or `(none)` for an empty application_name. */
export function displayName(name: string | null | undefined): string {
  if (name === null || name === undefined) return '(hidden)'
  return name === '' ? '(none)' : name
}
