import {chmod, open, rename, stat, unlink} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

export class FileExistsError extends Error {
  readonly code = 'FILE_EXISTS'
  constructor(readonly path: string) {
    super(`${path} already exists; pass --force to overwrite it`)
  }
}

/**
 * Write a file that may hold secrets (a .pgpass, a PgBouncer userlist, a .env): mode 0600 from the first
 * byte (never world-readable for an instant), written to a temp file and renamed into place so a crash
 * never leaves half a file, and never over an existing file unless `force`.
 */
export async function writeSecretFile(path: string, content: string, options: {force?: boolean} = {}): Promise<void> {
  if (!options.force && (await exists(path))) throw new FileExistsError(path)
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
  const handle = await open(temp, 'wx', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await unlink(temp).catch(() => {})
    throw error
  }

  await handle.close()
  await chmod(temp, 0o600) // the umask may have narrowed it further; never wider
  await rename(temp, path)
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
