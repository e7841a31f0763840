import {OptionsError} from './errors.js'

/**
 * Eager option validation shared by every core class: unknown keys are rejected and every
 * message shows the bad value, p-queue style ("Expected `max` to be ... got `0` (number)").
 */
export function rejectUnknownKeys(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new OptionsError(`${where}: unknown option \`${key}\` (known: ${known.join(', ')})`)
    }
  }
}

function describe(value: unknown): string {
  return `\`${typeof value === 'string' ? JSON.stringify(value) : String(value)}\` (${typeof value})`
}

/** An integer ≥ min (Infinity allowed when `allowInfinity`). Returns the value, or `fallback` when undefined. */
export function integerOption(
  where: string,
  name: string,
  value: unknown,
  {min, fallback, allowInfinity = false}: {min: number; fallback?: number; allowInfinity?: boolean},
): number {
  if (value === undefined) {
    if (fallback === undefined) throw new OptionsError(`${where}: option \`${name}\` is required`)
    return fallback
  }

  const ok =
    typeof value === 'number' && value >= min && (Number.isInteger(value) || (allowInfinity && value === Infinity))
  if (!ok) {
    const range = `an integer from ${min} and up${allowInfinity ? ' (or Infinity)' : ''}`
    throw new OptionsError(`${where}: expected \`${name}\` to be ${range}, got ${describe(value)}`)
  }

  return value
}

/** A finite number within [min, max]. */
export function numberOption(
  where: string,
  name: string,
  value: unknown,
  {min, max = Infinity, fallback}: {min: number; max?: number; fallback: number},
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `from ${min} and up` : `from ${min} to ${max}`
    throw new OptionsError(`${where}: expected \`${name}\` to be a number ${range}, got ${describe(value)}`)
  }

  return value
}

export function functionOption<F>(where: string, name: string, value: unknown, required: boolean): F | undefined {
  if (value === undefined && !required) return undefined
  if (typeof value !== 'function') {
    throw new OptionsError(`${where}: expected \`${name}\` to be a function, got ${describe(value)}`)
  }

  return value as F
}

export function oneOfOption<T extends string>(where: string, name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) {
    throw new OptionsError(`${where}: expected \`${name}\` to be one of ${allowed.join(', ')}, got ${describe(value)}`)
  }

  return value as T
}
