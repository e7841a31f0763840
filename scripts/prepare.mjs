#!/usr/bin/env node
// npm's `prepare` hook: build after `npm ci` / `npm install` in a checkout, so that the README's
// `npm ci && npx poolctl simulate` works on a fresh clone (`npm ci` alone does not build).
// Other commands that run `prepare` (npm pack, publish) keep their old behaviour: no build here, so
// `npm pack --json` output stays clean and dist/ is not rewritten under a running test suite.
// Build output goes to stderr.
import {spawnSync} from 'node:child_process'

if (process.env.npm_command === 'ci' || process.env.npm_command === 'install') {
  const npm = process.env.npm_execpath
  const result = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build'], {stdio: ['ignore', 2, 2]})
    : spawnSync('npm', ['run', 'build'], {stdio: ['ignore', 2, 2]})
  process.exitCode = result.status ?? 1
}
