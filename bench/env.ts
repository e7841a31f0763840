import {readFileSync} from 'node:fs'
import os from 'node:os'
import {fileURLToPath} from 'node:url'

/** The project root, found from this file whether it runs as dist/bench/env.js or bench/env.ts. */
export const projectRoot: string = (() => {
  const here = fileURLToPath(new URL('.', import.meta.url))
  return fileURLToPath(new URL(here.endsWith('/dist/bench/') ? '../../' : '../', import.meta.url))
})()

/** The installed version of a dependency, read from its package.json (what actually ran). */
export function libVersion(name: string): string {
  try {
    const text = readFileSync(`${projectRoot}node_modules/${name}/package.json`, 'utf8')
    return (JSON.parse(text) as {version: string}).version
  } catch {
    return '?'
  }
}

export function labelFor(name: string): string {
  return `${name} ${libVersion(name)}`
}

export interface Machine {
  cpu: string
  cores: number
  memoryGiB: number
  node: string
  platform: string
}

export function machine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown'
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'))
    if (line !== undefined) cpu = line.slice(line.indexOf(':') + 1).trim()
  } catch {
    // Not Linux: os.cpus() already gave a model.
  }

  return {
    cpu,
    cores: os.availableParallelism(),
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  }
}
