import {access, constants, readFile, stat} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {CliError, ErrorCode} from '../errors.js'
import {FileExistsError, writeFileAtomic} from '../files/secret-file.js'
import {unifiedDiff} from './diff.js'
import type {GeneratedFile, Part} from './files.js'

export type FileActionKind = 'create' | 'skip' | 'conflict' | 'overwrite'

export interface FileAction {
  path: string
  part: Part
  action: FileActionKind
  secret: boolean
  /** Unified diff of the file on disk against the generated one (conflicts and overwrites). */
  diff?: string
  /** Why a conflict is not about content (a directory in the way): --force cannot resolve it either. */
  reason?: string
}

/** Errors that mean "you may not write here": PERMISSION_DENIED (exit 3), one line. */
const PERMISSION_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS'])

/**
 * What writing `files` into `dir` would do: a missing file is created; an identical one skipped; one
 * that differs is a conflict, or overwritten with `force`. Nothing is ever deleted.
 */
export async function planFiles(dir: string, files: readonly GeneratedFile[], options: {force: boolean}): Promise<FileAction[]> {
  const actions: FileAction[] = []
  for (const file of files) {
    const base = {part: file.part, path: file.path, secret: file.secret}
    let existing: string | undefined
    try {
      existing = await readFile(join(dir, file.path), 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // Replacing a directory, or a file where a directory must go, would mean deleting the user's: never.
      if (code === 'EISDIR' || code === 'ENOTDIR') {
        actions.push({...base, action: 'conflict', reason: code === 'EISDIR' ? 'a directory is in the way' : 'a file is in the way of its directory'})
        continue
      }
      if (code !== 'ENOENT') throw fileError(error, `cannot read ${file.path}`, 0)
    }
    // A checkout with core.autocrlf turns our LF into CRLF: the same file, not a conflict.
    const text = existing?.replaceAll('\r\n', '\n')
    if (text === undefined) actions.push({...base, action: 'create'})
    else if (text === file.content) actions.push({...base, action: 'skip'})
    else actions.push({...base, action: options.force ? 'overwrite' : 'conflict', diff: unifiedDiff(text, file.content, `a/${file.path}`, `b/${file.path}`)})
  }
  return actions
}

/**
 * Carry out the creates and overwrites, each whole or not at all (temp file + rename/link). A file that
 * appeared since planning is not overwritten: its action becomes a conflict.
 */
export async function applyPlan(dir: string, files: readonly GeneratedFile[], actions: FileAction[]): Promise<FileAction[]> {
  const byPath = new Map(files.map((file) => [file.path, file]))
  // A read-only project fails here, before the first write, instead of after half of the files.
  for (const action of actions) {
    if (action.action !== 'create' && action.action !== 'overwrite') continue
    const parent = await nearestDirectory(join(dir, dirname(action.path)))
    await access(parent, constants.W_OK).catch((error: unknown) => {
      throw fileError(error, `cannot write ${action.path} (${parent} is not writable)`, 0)
    })
  }
  const done: FileAction[] = []
  for (const action of actions) {
    const file = byPath.get(action.path)!
    if (action.action !== 'create' && action.action !== 'overwrite') {
      done.push(action)
      continue
    }
    try {
      await writeFileAtomic(join(dir, file.path), file.content, {force: action.action === 'overwrite', mode: file.secret ? 0o600 : undefined})
      done.push(action)
    } catch (error) {
      if (!(error instanceof FileExistsError)) throw fileError(error, `cannot write ${action.path}`, done.filter((earlier) => earlier.action === 'create' || earlier.action === 'overwrite').length)
      done.push({...action, action: 'conflict'})
    }
  }
  return done
}

/** `path` itself, or the closest ancestor that exists (writeFileAtomic creates the rest). */
async function nearestDirectory(path: string): Promise<string> {
  for (let current = path; ; current = dirname(current)) {
    if (await stat(current).then(() => true, () => false)) return current
    if (dirname(current) === current) return current
  }
}

/** One line naming the file, the errno and what was written before it. */
function fileError(error: unknown, what: string, written: number): CliError {
  const {code, message} = error as NodeJS.ErrnoException
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : message
  const before = written === 0 ? 'nothing was written' : `${written} file(s) were written before it`
  return new CliError(PERMISSION_ERRORS.has(code ?? '') ? ErrorCode.PERMISSION_DENIED : ErrorCode.INTERNAL, `${what}: ${reason}${code && reason !== message ? ` (${code})` : ''}; ${before}`, {cause: error})
}
