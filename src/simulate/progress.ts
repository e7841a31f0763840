/** Plain-text views of a snapshot: the non-TTY progress line and the sparkline the live UI also uses. */
import type {Snapshot} from './engine.js'

const BLOCKS = '▁▂▃▄▅▆▇█'

/** One line per second when stdout is not a terminal: no escape codes, stable field order. */
export function formatProgressLine(snapshot: Snapshot): string {
  const {totals, pool, queue} = snapshot
  const bound = queue.bound === Infinity ? '∞' : String(queue.bound)
  return [
    `[${seconds(snapshot.elapsedMs)}/${seconds(snapshot.durationMs)}]`,
    `rate ${Math.round(snapshot.offeredRate)}/s`,
    `in use ${pool.inUse}/${pool.max}`,
    `queue ${queue.depth}/${bound}`,
    `completed ${totals.completed}`,
    `rejected ${totals.rejected}`,
    `failed ${totals.failed}`,
    `timed out ${totals.timedOut}`,
    `p99 ${Math.round(snapshot.latencyMs.p99)}ms`,
    `breaker ${snapshot.breaker}`,
  ].join('  ')
}

/** `values` scaled to block characters, the last `width` of them. */
export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(-width)
  const max = Math.max(0, ...shown)
  if (max === 0) return BLOCKS[0].repeat(shown.length)
  return shown.map((value) => BLOCKS[Math.min(BLOCKS.length - 1, Math.floor((value / max) * (BLOCKS.length - 1)))]).join('')
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}
