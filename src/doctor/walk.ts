/**
 * Which files doctor reads: the JS/TS sources under the given paths, minus `.gitignore`d ones (every
 * `.gitignore` from the project root down), `node_modules`, build output and dot-directories. A file
 * named on the command line is read even when ignored.
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve, sep} from 'node:path'

import ignore, {type Ignore} from 'ignore'

import {CliError, ErrorCode} from '../errors.js'
import {isSourceFile} from './parse.js'

/** Never source: dependencies and the usual build / coverage / framework output directories. */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set(['node_modules', 'dist', 'build', 'out', 'coverage', 'bower_components', 'jspm_packages', 'vendor'])

interface Matcher {
  base: string
  rules: Ignore
}

/** The git work tree around `cwd` (the directory holding `.git`), else `cwd`. */
export function projectRoot(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir
    if (dirname(dir) === dir) return resolve(cwd)
  }
}

export function collectFiles(paths: readonly string[], cwd: string, root: string): string[] {
  const files = new Set<string>()
  for (const input of paths) {
    const path = resolve(cwd, input)
    let stat
    try {
      stat = statSync(path)
    } catch {
      throw new CliError(ErrorCode.USAGE, `no such file or directory: ${input}`)
    }
    if (stat.isFile()) {
      if (isSourceFile(path)) files.add(path)
    } else if (stat.isDirectory()) {
      walk(path, ancestorMatchers(path, root), files)
    }
  }
  return [...files].sort()
}

function walk(dir: string, matchers: readonly Matcher[], files: Set<string>): void {
  let entries
  try {
    entries = readdirSync(dir, {withFileTypes: true})
  } catch {
    return // unreadable directories are skipped, as git does
  }
  const own = entries.some((entry) => entry.name === '.gitignore') ? readGitignore(dir) : undefined
  const active = own === undefined ? matchers : [...matchers, own]
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name.startsWith('.') || SKIPPED_DIRECTORIES.has(entry.name) || ignored(active, path, true)) continue
      walk(path, active, files)
    } else if (entry.isFile() && isSourceFile(entry.name) && !ignored(active, path, false)) {
      files.add(path)
    }
  }
}

/** As git decides: the deepest `.gitignore` with a matching pattern wins, so a `!negation` below re-includes. */
function ignored(matchers: readonly Matcher[], path: string, directory: boolean): boolean {
  for (let index = matchers.length - 1; index >= 0; index--) {
    const matcher = matchers[index]
    const rel = relative(matcher.base, path).split(sep).join('/')
    if (rel === '' || rel.startsWith('..')) continue
    const verdict = matcher.rules.test(directory ? `${rel}/` : rel)
    if (verdict.ignored || verdict.unignored) return verdict.ignored
  }
  return false
}

/** The `.gitignore` files of the directories from the root down to (not including) `dir`. */
function ancestorMatchers(dir: string, root: string): Matcher[] {
  const rel = relative(root, dir)
  if (rel === '' || rel.startsWith('..')) return []
  const matchers: Matcher[] = []
  let current = root
  for (const part of rel.split(sep)) {
    const matcher = readGitignore(current)
    if (matcher) matchers.push(matcher)
    current = join(current, part)
  }
  return matchers
}

function readGitignore(dir: string): Matcher | undefined {
  let text: string
  try {
    text = readFileSync(join(dir, '.gitignore'), 'utf8')
  } catch {
    return undefined
  }
  return {base: dir, rules: ignore().add(text)}
}
