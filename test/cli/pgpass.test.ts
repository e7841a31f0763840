import assert from 'node:assert/strict'
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {findPgpassEntry, lookupPgpass, parsePgpass, pgpassFilePath} from '../../src/cli/pgpass.js'

const target = {database: 'app', host: 'db.internal', port: 5432, user: 'alice'}

describe('parsePgpass', () => {
  it('parses fields, skips comments, blank and short lines', () => {
    const entries = parsePgpass('# comment\n\nshort:line\ndb.internal:5432:app:alice:s3cret\r\n')
    assert.equal(entries.length, 1)
    assert.equal(entries[0].password, 's3cret')
    assert.equal(entries[0].line, 4)
  })

  it('unescapes \\: and \\\\ and ends the password at the next unescaped colon', () => {
    const [entry] = parsePgpass(String.raw`h\:1:5432:d\\b:u:pa\:ss\\word:ignored`)
    assert.equal(entry.host.value, 'h:1')
    assert.equal(entry.database.value, String.raw`d\b`)
    assert.equal(entry.password, String.raw`pa:ss\word`)
  })

  it('treats a bare * as a wildcard and \\* as a literal star', () => {
    const [wild, literal] = parsePgpass('*:*:*:*:w\n\\*:5432:app:alice:l')
    assert.equal(wild.host.wildcard, true)
    assert.equal(literal.host.wildcard, false)
    assert.equal(literal.host.value, '*')
  })

  it('allows an empty password field', () => {
    const [entry] = parsePgpass('h:1:d:u:')
    assert.equal(entry.password, '')
  })
})

describe('findPgpassEntry', () => {
  it('returns the first matching line', () => {
    const entries = parsePgpass('other:5432:app:alice:no\ndb.internal:*:app:alice:first\n*:*:*:*:second')
    assert.equal(findPgpassEntry(entries, target)?.password, 'first')
  })

  it('matches port as text and needs every field to match', () => {
    const entries = parsePgpass('db.internal:5433:app:alice:no\ndb.internal:5432:app:bob:no')
    assert.equal(findPgpassEntry(entries, target), undefined)
  })

  it('matches a default Unix-socket connection as localhost', () => {
    const entries = parsePgpass('localhost:5432:app:alice:local')
    assert.equal(findPgpassEntry(entries, {...target, host: '/var/run/postgresql'})?.password, 'local')
    assert.equal(findPgpassEntry(entries, {...target, host: '/some/other/dir'}), undefined)
  })
})

describe('lookupPgpass', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'poolctl-pgpass-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('uses PGPASSFILE, else ~/.pgpass', () => {
    assert.equal(pgpassFilePath({PGPASSFILE: '/x/y'}, '/home/a'), '/x/y')
    assert.equal(pgpassFilePath({}, '/home/a'), '/home/a/.pgpass')
  })

  it('reads a 0600 file', async () => {
    const file = join(dir, 'ok.pgpass')
    await writeFile(file, 'db.internal:5432:app:alice:from-file\n', {mode: 0o600})
    await chmod(file, 0o600)
    const result = lookupPgpass(target, {environ: {PGPASSFILE: file}, homedir: dir, platform: 'linux'})
    assert.equal(result.password, 'from-file')
    assert.equal(result.warning, undefined)
  })

  it('ignores a group- or world-readable file with a warning, like libpq', async () => {
    for (const mode of [0o644, 0o640, 0o604]) {
      const file = join(dir, `open-${mode.toString(8)}.pgpass`)
      await writeFile(file, 'db.internal:5432:app:alice:from-file\n')
      await chmod(file, mode)
      const result = lookupPgpass(target, {environ: {PGPASSFILE: file}, homedir: dir, platform: 'linux'})
      assert.equal(result.password, undefined, mode.toString(8))
      assert.match(result.warning ?? '', /group or world access.*0600/)
      assert.ok(!result.warning?.includes('from-file'))
    }
  })

  it('accepts stricter modes (0400)', async () => {
    const file = join(dir, 'ro.pgpass')
    await writeFile(file, '*:*:*:*:ro\n')
    await chmod(file, 0o400)
    assert.equal(lookupPgpass(target, {environ: {PGPASSFILE: file}, homedir: dir, platform: 'linux'}).password, 'ro')
  })

  it('is silent when the file does not exist, and warns when it is a directory', () => {
    assert.deepEqual(lookupPgpass(target, {environ: {}, homedir: join(dir, 'nohome')}), {file: join(dir, 'nohome', '.pgpass')})
    const result = lookupPgpass(target, {environ: {PGPASSFILE: dir}, homedir: dir, platform: 'linux'})
    assert.match(result.warning ?? '', /not a plain file/)
  })
})
