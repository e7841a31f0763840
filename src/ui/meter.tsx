import {Text} from 'ink'

export interface MeterProps {
  /** 0–100 (more is drawn full). */
  percent: number
  /** Cells of the bar. */
  width: number
  /** Colour from this % on… */
  warnAt: number
  /** …and this one. */
  critAt: number
}

/** A horizontal bar, `███████░░░`, green / yellow / red by threshold. Renders only from its props. */
export function Meter({critAt, percent, warnAt, width}: MeterProps) {
  const filled = Math.max(0, Math.min(width, Math.round((percent / 100) * width)))
  const color = percent >= critAt ? 'red' : percent >= warnAt ? 'yellow' : 'green'
  return (
    <Text>
      <Text color={color}>{'█'.repeat(filled)}</Text>
      <Text dimColor>{'░'.repeat(width - filled)}</Text>
    </Text>
  )
}

const SPARKS = '▁▂▃▄▅▆▇█'

/** A trend line of percentages (0–100), one character per sample. */
export function Sparkline({values}: {values: readonly number[]}) {
  const line = values.map((value) => SPARKS[Math.max(0, Math.min(SPARKS.length - 1, Math.floor((value / 100) * SPARKS.length)))]).join('')
  return <Text dimColor>{line}</Text>
}
