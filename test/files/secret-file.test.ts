import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {FileExistsError, writeSecretFile} from '../../src/files/secret-file.js'

const dir = mkdtempSync(join(tmpdir(), 'poolctl-secret-'))
after(() => rmSync(dir, {force: true, recursive: true}))

describe('scaffold_secret_files: files that can hold secrets', () => {
  it('scaffold_secret_files: are written with mode 0600 and leave no temp file behind', async () => {
    const path = join(dir, 'userlist.txt')
    await writeSecretFile(path, '"app" "SCRAM-SHA-256$4096:..."\n')
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.deepEqual(readdirSync(dir), ['userlist.txt'])
  })

  it('scaffold_secret_files: never overwrite what the user has, unless forced (then still 0600)', async () => {
    const path = join(dir, '.pgpass')
    writeFileSync(path, 'mine\n', {mode: 0o644})
    await assert.rejects(writeSecretFile(path, 'theirs\n'), FileExistsError)
    assert.equal(readFileSync(path, 'utf8'), 'mine\n')
    await writeSecretFile(path, 'theirs\n', {force: true})
    assert.equal(readFileSync(path, 'utf8'), 'theirs\n')
    assert.equal(statSync(path).mode & 0o777, 0o600)
  })
})
