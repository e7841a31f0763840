#!/usr/bin/env node
// Development entry: rebuilds nothing, runs the compiled tree with oclif's development flags
// (no manifest cache, stack traces on). Run `npm run build` (or `npx tsc -w`) alongside.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
