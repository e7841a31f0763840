/**
 * Secret redaction. Every string poolctl prints or logs that could contain a
 * connection URL or a password goes through here.
 *
 * Three layers, because each one alone has holes:
 * 1. `redactUrl` rewrites a connection URL to `postgres://user:***@host:port/db`
 *    without needing the URL to parse (pg's own URL errors carry the input,
 *    node-postgres #3145; a raw `#`, `@` or `%` in a password breaks parsing).
 * 2. `scrubSecrets` finds URLs and `password=` keywords inside free text.
 * 3. Passwords poolctl has resolved are registered (`registerSecret`) and every
 *    literal occurrence, raw or percent-encoded, is replaced as well.
 */

export const REDACTED = '***'

const SCHEME = /^([a-z][a-z0-9+.-]*:\/\/)/i
/** Secrets shorter than this are not scrubbed literally: it would mangle ordinary text. */
const MIN_LITERAL_SECRET_LENGTH = 4

const knownSecrets = new Set<string>()

/**
 * Remember a secret so that `scrubSecrets` removes every literal occurrence of it
 * (raw, percent-encoded, JSON-escaped). Used for the password poolctl resolved.
 */
export function registerSecret(secret: string | undefined | null): void {
  if (typeof secret !== 'string' || secret.length < MIN_LITERAL_SECRET_LENGTH) return
  knownSecrets.add(secret)
}

/** For tests. */
export function clearRegisteredSecrets(): void {
  knownSecrets.clear()
}

/**
 * `postgres://user:pass@host:5432/db?sslmode=require&password=x` →
 * `postgres://user:***@host:5432/db?sslmode=require&password=***`.
 *
 * Works on strings that are not valid URLs: the userinfo is everything up to
 * the LAST `@` (passwords may contain `@`), so nothing of the password survives.
 * Input without a `scheme://` prefix is not echoed at all.
 */
export function redactUrl(input: string): string {
  if (typeof input !== 'string') return REDACTED
  const scheme = SCHEME.exec(input)
  if (!scheme) return '<redacted>'
  const rest = input.slice(scheme[1].length)
  const at = rest.lastIndexOf('@')
  let redacted: string
  if (at === -1) {
    // No userinfo. An authority like `host:notaport` may be a password typed in
    // the wrong place: hide whatever follows the colon unless it is a port.
    const end = firstIndexOf(rest, ['/', '?'])
    const authority = rest.slice(0, end)
    const colon = authority.lastIndexOf(':')
    const safeAuthority =
      colon !== -1 && !authority.startsWith('[') && !/^\d*$/.test(authority.slice(colon + 1))
        ? `${authority.slice(0, colon)}:${REDACTED}`
        : authority
    redacted = scheme[1] + safeAuthority + rest.slice(end)
  } else {
    const userinfo = rest.slice(0, at)
    const colon = userinfo.indexOf(':')
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon)
    const shownUser = colon === -1 ? user : `${user}:${REDACTED}`
    redacted = `${scheme[1]}${shownUser}@${rest.slice(at + 1)}`
  }
  return redactQueryPasswords(redacted)
}

/** `?password=x&sslpassword=y` → `?password=***&sslpassword=***`. */
function redactQueryPasswords(url: string): string {
  // The value runs until the next `&key=` so that a raw `&` inside a password
  // does not leave its tail visible.
  return url.replace(/([?&](?:ssl)?password=)(?:.*?)(?=&[a-z_]+=|$)/gi, `$1${REDACTED}`)
}

function firstIndexOf(text: string, needles: string[]): number {
  let best = text.length
  for (const needle of needles) {
    const index = text.indexOf(needle)
    if (index !== -1 && index < best) best = index
  }
  return best
}

// `scheme://` followed by a run of non-whitespace: a URL embedded in text.
const EMBEDDED_URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s]*/gi
// password=value, password: value, "password":"value", PGPASSWORD=value
const PASSWORD_KEYWORD =
  /(\b[a-z_]*password["']?\s*[=:]\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&})\]]+)/gi

/**
 * Remove credentials from free text: URLs with userinfo, `password=...`
 * keywords, and every registered secret.
 */
export function scrubSecrets(text: string): string {
  if (typeof text !== 'string' || text.length === 0) return text
  let out = text.replace(EMBEDDED_URL, (url) => (url.includes('@') || /password=/i.test(url) ? redactUrl(url) : url))
  out = out.replace(PASSWORD_KEYWORD, (_match, key: string) => `${key}${REDACTED}`)
  for (const secret of knownSecrets) {
    for (const form of secretForms(secret)) {
      if (out.includes(form)) out = out.split(form).join(REDACTED)
    }
  }
  return out
}

function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret])
  forms.add(encodeURIComponent(secret))
  forms.add(JSON.stringify(secret).slice(1, -1))
  try {
    forms.add(new URL(`x://u:${encodeURIComponent(secret)}@h`).password)
  } catch {
    // only an extra form
  }
  return [...forms].filter((form) => form.length >= MIN_LITERAL_SECRET_LENGTH)
}

/**
 * Deep copy of `value` with every string scrubbed, Errors turned into plain
 * `{type, message, code, stack}` objects, and cycles cut. For log records.
 */
export function scrubDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubSecrets(value)
  if (value === null || typeof value !== 'object') return value
  if (seen.has(value)) return '[Circular]'
  if (depth > 8) return '[Object]'
  seen.add(value)
  if (value instanceof Error) {
    const error = value as Error & {code?: unknown; cause?: unknown}
    const out: Record<string, unknown> = {type: error.name, message: scrubSecrets(error.message)}
    if (error.code !== undefined) out.code = error.code
    if (error.stack) out.stack = scrubSecrets(error.stack)
    if (error.cause !== undefined) out.cause = scrubDeep(error.cause, depth + 1, seen)
    return out
  }
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, depth + 1, seen))
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) out[key] = scrubDeep(item, depth + 1, seen)
  return out
}
