#!/usr/bin/env node
// `poolctl --version` answers without loading oclif (importing @oclif/core alone costs ~100 ms, more
// than knex's whole start-up), in exactly oclif's format: `${name}/${version} ${platform}-${arch}
// node-${version}`. Like oclif, only a first argument of `--version` counts. On WSL, where oclif
// reports the platform as "wsl", it is left to oclif. test/commands/cli.test.ts compares both outputs.
import {readFileSync} from 'node:fs'
import {arch, release} from 'node:os'

if (process.argv[2] === '--version' && !(process.platform === 'linux' && /microsoft/i.test(release()))) {
  const {name, version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${name}/${version} ${process.platform}-${arch() === 'ia32' ? 'x86' : arch()} node-${process.version}\n`)
} else {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
