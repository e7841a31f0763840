import {Box, Text} from 'ink'

import {type Part, PART_DESCRIPTIONS} from '../files.js'

export interface PartPickerProps {
  parts: readonly Part[]
  cursor: number
  selected: ReadonlySet<Part>
}

/** The checklist of parts to scaffold. Renders only from its props. */
export function PartPicker({cursor, parts, selected}: PartPickerProps) {
  return (
    <Box flexDirection="column">
      <Text bold>Scaffold which parts? (↑/↓ move · space toggle · a all · enter go · q cancel)</Text>
      {parts.map((part, index) => (
        <Text key={part} color={index === cursor ? 'cyan' : undefined}>
          {index === cursor ? '›' : ' '} {selected.has(part) ? '[x]' : '[ ]'} {part.padEnd(10)} <Text dimColor>{PART_DESCRIPTIONS[part]}</Text>
        </Text>
      ))}
    </Box>
  )
}
