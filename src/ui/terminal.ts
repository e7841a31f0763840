/**
 * Ink or plain text? Decided when a command runs, from the streams it will actually use, never at
 * import time from the environment alone (a pipe outside CI must not get escape codes).
 */
export interface TerminalStreams {
  stdout: {isTTY?: boolean}
  stdin: {isTTY?: boolean}
}

/**
 * An interactive UI needs a terminal on both sides: stdout to redraw, stdin for keys. TERM=dumb
 * terminals cannot move the cursor, so they get plain text too.
 */
export function isInteractiveTerminal(streams: TerminalStreams, environ: NodeJS.ProcessEnv = process.env): boolean {
  return streams.stdout.isTTY === true && streams.stdin.isTTY === true && environ.TERM !== 'dumb'
}
