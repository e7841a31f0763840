/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: it throws on anything
 * `promtool check metrics` or a scraper would reject (bad names, bad escapes, a family's HELP/TYPE
 * twice or after its samples, interleaved families, duplicate series, unparsable values).
 */
export interface ParsedSample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface ParsedFamily {
  name: string
  help: string | undefined
  type: string | undefined
  samples: ParsedSample[]
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

function parseValue(text: string, line: number): number {
  if (text === 'NaN') return Number.NaN
  if (text === '+Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: bad value ${JSON.stringify(text)}`)
  return Number(text)
}

/** Parse `{a="x",b="y\"z"}` starting at `start` (the `{`); returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, line: number): {labels: Record<string, string>; end: number} {
  const labels: Record<string, string> = {}
  let i = start + 1
  const fail = (why: string): never => {
    throw new Error(`line ${line}: ${why} in ${JSON.stringify(text)}`)
  }
  while (text[i] !== '}') {
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))
    if (!nameMatch) fail('bad label name')
    const name = nameMatch![0]
    if (!LABEL_NAME.test(name)) fail(`bad label name ${name}`)
    if (name in labels) fail(`label ${name} twice`)
    i += name.length
    if (text[i] !== '=' || text[i + 1] !== '"') fail('expected ="')
    i += 2
    let value = ''
    for (;;) {
      const ch = text[i]
      if (ch === undefined) fail('unterminated label value')
      if (ch === '"') break
      if (ch === '\n') fail('raw newline in label value')
      if (ch === '\\') {
        const next = text[i + 1]
        if (next === '\\') value += '\\'
        else if (next === '"') value += '"'
        else if (next === 'n') value += '\n'
        else fail(`bad escape \\${next}`)
        i += 2
        continue
      }
      value += ch
      i++
    }
    labels[name] = value
    i++ // closing quote
    if (text[i] === ',') i++
    else if (text[i] !== '}') fail('expected , or }')
  }
  return {end: i + 1, labels}
}

export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline')
  const families = new Map<string, ParsedFamily>()
  const series = new Set<string>()
  let current: string | undefined
  const family = (name: string, line: number): ParsedFamily => {
    if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`)
    let found = families.get(name)
    if (found && current !== name) throw new Error(`line ${line}: family ${name} is not contiguous`)
    if (!found) {
      found = {help: undefined, name, samples: [], type: undefined}
      families.set(name, found)
    }
    current = name
    return found
  }
  const lines = text.slice(0, -1).split('\n')
  lines.forEach((raw, index) => {
    const line = index + 1
    if (raw.trim() === '') return
    if (raw.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw)
      if (!match) return // a comment
      const [, kind, name, rest] = match
      const target = family(name, line)
      if (target.samples.length > 0) throw new Error(`line ${line}: ${kind} for ${name} after its samples`)
      if (kind === 'HELP') {
        if (target.help !== undefined) throw new Error(`line ${line}: second HELP for ${name}`)
        if (/\\[^\\n]/.test(rest)) throw new Error(`line ${line}: bad escape in HELP`)
        target.help = rest
      } else {
        if (target.type !== undefined) throw new Error(`line ${line}: second TYPE for ${name}`)
        if (!TYPES.has(rest)) throw new Error(`line ${line}: bad TYPE ${rest}`)
        target.type = rest
      }
      return
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw)
    if (!nameMatch) throw new Error(`line ${line}: bad sample ${JSON.stringify(raw)}`)
    const name = nameMatch[0]
    let rest = raw.slice(name.length)
    let labels: Record<string, string> = {}
    if (rest.startsWith('{')) {
      const parsed = parseLabels(raw, name.length, line)
      labels = parsed.labels
      rest = raw.slice(parsed.end)
    }
    const parts = rest.trim().split(/\s+/)
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) throw new Error(`line ${line}: bad sample ${JSON.stringify(raw)}`)
    const value = parseValue(parts[0], line)
    const target = family(name, line)
    const key = `${name}{${Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`
    if (series.has(key)) throw new Error(`line ${line}: duplicate series ${key}`)
    series.add(key)
    target.samples.push({labels, name, value})
  })
  return families
}
