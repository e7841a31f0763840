/** writeFileAtomic (src/files/secret-file.ts), which every file poolctl init writes goes through. */
import assert from 'node:assert/strict'
import {chmod, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {FileExistsError, writeFileAtomic} from '../../src/files/secret-file.js'
import {applyPlan, planFiles} from '../../src/init/plan.js'

describe('init: writeFileAtomic and the plan', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'poolctl-init-write-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('creates missing parent directories and leaves no temp file', async () => {
    await writeFileAtomic(join(dir, 'a/b/c.txt'), 'hello\n')
    assert.equal(await readFile(join(dir, 'a/b/c.txt'), 'utf8'), 'hello\n')
    assert.deepEqual(await readdir(join(dir, 'a/b')), ['c.txt'])
  })

  it('never replaces an existing file without force; with force keeps its mode', async () => {
    const path = join(dir, 'mine.txt')
    await writeFile(path, 'mine\n')
    await chmod(path, 0o640)
    await assert.rejects(writeFileAtomic(path, 'theirs\n'), FileExistsError)
    assert.equal(await readFile(path, 'utf8'), 'mine\n')
    await writeFileAtomic(path, 'theirs\n', {force: true})
    assert.equal(await readFile(path, 'utf8'), 'theirs\n')
    assert.equal((await stat(path)).mode & 0o777, 0o640)
    assert.deepEqual((await readdir(dir)).filter((name) => name.endsWith('.tmp')), [])
  })

  it('a file that appears between plan and write becomes a conflict, and is kept', async () => {
    const files = [{content: 'generated\n', part: 'vscode' as const, path: 'late.json', secret: false}]
    const plan = await planFiles(dir, files, {force: false})
    assert.deepEqual(plan.map((action) => action.action), ['create'])
    await writeFile(join(dir, 'late.json'), 'the user was faster\n')
    const done = await applyPlan(dir, files, plan)
    assert.deepEqual(done.map((action) => action.action), ['conflict'])
    assert.equal(await readFile(join(dir, 'late.json'), 'utf8'), 'the user was faster\n')
  })

  it('plans create / skip / conflict / overwrite, with a diff for the ones that differ', async () => {
    await writeFile(join(dir, 'same.txt'), 'same\n')
    await writeFile(join(dir, 'other.txt'), 'old\n')
    const files = ['new.txt', 'same.txt', 'other.txt'].map((path) => ({content: path === 'other.txt' ? 'new\n' : 'same\n', part: 'load' as const, path, secret: false}))
    const plain = await planFiles(dir, files, {force: false})
    assert.deepEqual(plain.map((action) => action.action), ['create', 'skip', 'conflict'])
    assert.match(plain[2].diff ?? '', /^-old\n\+new$/m)
    assert.deepEqual((await planFiles(dir, files, {force: true})).map((action) => action.action), ['create', 'skip', 'overwrite'])
  })

  it('a file that differs only by CRLF line endings (git autocrlf on Windows) is the same file: skipped', async () => {
    await writeFile(join(dir, 'crlf.json'), '{\r\n  "a": 1\r\n}\r\n')
    const files = [{content: '{\n  "a": 1\n}\n', part: 'vscode' as const, path: 'crlf.json', secret: false}]
    assert.deepEqual((await planFiles(dir, files, {force: false})).map((action) => action.action), ['skip'])
    files[0].content = '{\n  "a": 2\n}\n'
    assert.deepEqual((await planFiles(dir, files, {force: false})).map((action) => action.action), ['conflict'])
  })
})
