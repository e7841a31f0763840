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
  return streams.stdout.isTTY === true && streams.stdin.isTTY === true && environ.TERM !== 'dumb' && !isContinuousIntegration(environ)
}

/**
 * ink draws no frames while it believes it runs in CI (its `is-in-ci` rule, repeated here rather than
 * importing a dependency of a dependency), so a terminal inside CI gets plain text, not a blank screen.
 */
export function isContinuousIntegration(environ: NodeJS.ProcessEnv = process.env): boolean {
  if (environ.CI === '0' || environ.CI === 'false') return false
  return 'CI' in environ || 'CONTINUOUS_INTEGRATION' in environ || Object.keys(environ).some((key) => key.startsWith('CI_'))
}
