import {chmod, link, mkdir, open, rename, stat, unlink} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

export class FileExistsError extends Error {
  readonly code = 'FILE_EXISTS'
  constructor(readonly path: string) {
    super(`${path} already exists; pass --force to overwrite it`)
  }
}

export interface WriteFileOptions {
  /** Replace an existing file. Without it an existing file is never touched (FileExistsError). */
  force?: boolean
  /** 0o600 for secrets. Default: 0o666 less the umask for a new file, the existing file's mode on --force. */
  mode?: number
}

/**
 * Write a whole file or nothing: the content goes to a temp file next to the target (missing parent
 * directories are created), is synced, and only then appears under its name. Without `force` it is
 * linked into place, which fails atomically when the name exists (no check-then-write race); with
 * `force` it is renamed over the old file. A crash leaves the old file or the new one, never half.
 */
export async function writeFileAtomic(path: string, content: string, options: WriteFileOptions = {}): Promise<void> {
  await mkdir(dirname(path), {recursive: true})
  const previousMode = options.force ? await modeOf(path) : undefined
  if (!options.force && (await modeOf(path)) !== undefined) throw new FileExistsError(path)
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
  const handle = await open(temp, 'wx', options.mode ?? 0o666)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await unlink(temp).catch(() => {})
    throw error
  }

  await handle.close()
  try {
    // the umask may have narrowed a secret's mode further; never wider. On --force keep the user's mode.
    const mode = options.mode ?? previousMode
    if (mode !== undefined) await chmod(temp, mode)
    if (options.force) {
      await rename(temp, path)
      return
    }
    try {
      await link(temp, path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(path)
      throw error
    }
    await unlink(temp)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
}

/**
 * Write a file that may hold secrets (a .pgpass, a PgBouncer userlist, a .env): mode 0600 from the first
 * byte (never world-readable for an instant), whole or not at all, and never over an existing file
 * unless `force`.
 */
export async function writeSecretFile(path: string, content: string, options: {force?: boolean} = {}): Promise<void> {
  await writeFileAtomic(path, content, {force: options.force, mode: 0o600})
}

async function modeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o777
  } catch {
    return undefined
  }
}
