#!/usr/bin/env node
// Development entry: runs the TypeScript sources (commands/*.ts, src/**/*.ts)
// directly through tsx (a devDependency), so no build is needed; dist/ and
// oclif.manifest.json are ignored. oclif's development mode is on
// (NODE_ENV=development, stack traces on oclif errors).
//
//   node bin/dev.js ping --url postgres://...
//
// Why it is wired by hand: oclif's own auto-transpile (config/ts-path) loads
// tsx through its CommonJS API, which fails for this ESM project and silently
// falls back to dist/; and the root plugin always prefers oclif.manifest.json,
// whose paths point into dist/. So tsx is registered here, and the root plugin
// is built here with the manifest ignored and commands read from ./commands.
// The bundled plugins (help, autocomplete) are added the same way.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {register} from 'tsx/esm/api'

register()
const {execute, Plugin, settings} = await import('@oclif/core')
settings.enableAutoTranspile = false
const root = fileURLToPath(new URL('..', import.meta.url))
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
pjson.oclif = {...pjson.oclif, commands: './commands'}

const rootPlugin = new Plugin({ignoreManifest: true, isRoot: true, pjson, root})
await rootPlugin.load()
const plugins = new Map([[rootPlugin.name, rootPlugin]])
for (const name of pjson.oclif.plugins ?? []) {
  const plugin = new Plugin({name, root, type: 'core'})
  await plugin.load()
  plugins.set(plugin.name, plugin)
}
await execute({development: true, loadOptions: {pjson, plugins, root}})
