import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

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
}

/**
 * What writing `files` into `dir` would do: a missing file is created; an identical one skipped; one
 * that differs is a conflict, or overwritten with `force`. Nothing is ever deleted.
 */
export async function planFiles(dir: string, files: readonly GeneratedFile[], options: {force: boolean}): Promise<FileAction[]> {
  const actions: FileAction[] = []
  for (const file of files) {
    const existing = await readFile(join(dir, file.path), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined
      throw error
    })
    const base = {part: file.part, path: file.path, secret: file.secret}
    if (existing === undefined) actions.push({...base, action: 'create'})
    else if (existing === file.content) actions.push({...base, action: 'skip'})
    else actions.push({...base, action: options.force ? 'overwrite' : 'conflict', diff: unifiedDiff(existing, file.content, `a/${file.path}`, `b/${file.path}`)})
  }
  return actions
}

/**
 * Carry out the creates and overwrites, each whole or not at all (temp file + rename/link). A file that
 * appeared since planning is not overwritten: its action becomes a conflict.
 */
export async function applyPlan(dir: string, files: readonly GeneratedFile[], actions: FileAction[]): Promise<FileAction[]> {
  const byPath = new Map(files.map((file) => [file.path, file]))
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
      if (!(error instanceof FileExistsError)) throw error
      done.push({...action, action: 'conflict'})
    }
  }
  return done
}
