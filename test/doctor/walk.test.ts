/** Which files doctor reads: .gitignore at every level, skipped directories, explicit PATHs. */
import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, relative} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {CliError} from '../../src/errors.js'
import {collectFiles, projectRoot} from '../../src/doctor/walk.js'

describe('doctor file walk', () => {
  let dir: string
  const list = (paths: string[], cwd = dir): string[] => collectFiles(paths, cwd, projectRoot(cwd)).map((file) => relative(dir, file))

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'poolctl-doctor-walk-'))
    const files: Record<string, string> = {
      '.gitignore': '/generated/\n*.gen.ts\n',
      'src/app.ts': '',
      'src/view.tsx': '',
      'src/legacy.cjs': '',
      'src/types.d.ts': '',
      'src/schema.gen.ts': '',
      'src/readme.md': '',
      // a deeper .gitignore re-includes what the root one ignores, as in git
      'src/nested/.gitignore': 'secret.js\n!kept.gen.ts\n',
      'src/nested/kept.gen.ts': '',
      'src/nested/secret.js': '',
      'src/nested/kept.mjs': '',
      'generated/client.js': '',
      'node_modules/pg/index.js': '',
      'dist/app.js': '',
      'coverage/x.js': '',
      '.cache/y.js': '',
    }
    await mkdir(join(dir, '.git'))
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), {recursive: true})
      await writeFile(join(dir, path), text)
    }
  })

  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('reads JS/TS sources, honours every .gitignore, skips dependencies, build output and dot-directories', () => {
    assert.deepEqual(list(['.']), ['src/app.ts', 'src/legacy.cjs', 'src/nested/kept.gen.ts', 'src/nested/kept.mjs', 'src/view.tsx'])
  })

  it("a directory below the root still obeys the root's .gitignore", () => {
    assert.deepEqual(list(['.'], join(dir, 'src')), ['src/app.ts', 'src/legacy.cjs', 'src/nested/kept.gen.ts', 'src/nested/kept.mjs', 'src/view.tsx'])
  })

  it('a file named on the command line is read even when ignored; a missing path is a usage error', () => {
    assert.deepEqual(list(['generated/client.js', 'src/app.ts']), ['generated/client.js', 'src/app.ts'])
    assert.throws(() => list(['nope']), (error: unknown) => error instanceof CliError && error.code === 'USAGE')
  })
})
