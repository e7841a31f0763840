import {createInterface} from 'node:readline'

import type {ConfirmAnswer} from './unlock.js'

export interface PromptStreams {
  input: NodeJS.ReadableStream & {isTTY?: boolean}
  output: NodeJS.WritableStream & {isTTY?: boolean}
}

/**
 * Ask a yes/no question on the terminal and read one line. Only `y` or `yes` (any case) is a yes;
 * an empty line, anything else, or end of input (Ctrl-D) is a no. Without a terminal on both
 * sides nobody can be asked: 'no-tty', and the caller changes nothing unless --yes was given.
 */
export async function askOnTerminal(question: string, streams: PromptStreams = {input: process.stdin, output: process.stderr}): Promise<ConfirmAnswer> {
  if (!streams.input.isTTY || !streams.output.isTTY) return 'no-tty'
  const readline = createInterface({input: streams.input, output: streams.output, terminal: true})
  try {
    const line = await new Promise<string | undefined>((resolve) => {
      readline.once('close', () => resolve(undefined))
      readline.question(question, resolve)
    })
    return line !== undefined && /^y(es)?$/i.test(line.trim()) ? 'yes' : 'no'
  } finally {
    readline.close()
  }
}
