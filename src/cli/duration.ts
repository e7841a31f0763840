const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000}

/**
 * Parse a duration flag value: `500ms`, `10s`, `1.5s`, `2m`, `1h`, or a bare
 * number of SECONDS (like libpq's `connect_timeout`). `0` means "off".
 * Returns whole milliseconds; throws a TypeError naming the bad value.
 */
export function parseDurationMillis(input: string, flagName = 'duration'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/i.exec(input)
  if (!match) {
    throw new TypeError(
      `Expected --${flagName} to be a duration like 500ms, 10s or 2m (a bare number means seconds), got \`${input}\``,
    )
  }
  const unit = (match[2] ?? 's').toLowerCase()
  return Math.round(Number(match[1]) * UNIT_MS[unit])
}

export function formatMillis(ms: number): string {
  if (ms === 0) return '0 (off)'
  if (ms % 60_000 === 0) return `${ms / 60_000} min`
  if (ms % 1000 === 0) return `${ms / 1000} s`
  return `${ms} ms`
}
