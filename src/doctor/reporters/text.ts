import type {DoctorResult} from '../doctor.js'

export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ')
}

export function summaryLine(result: DoctorResult): string {
  const {error, info, warning} = result.counts
  const total = error + warning + info
  const parts = [`${error} error${error === 1 ? '' : 's'}`, `${warning} warning${warning === 1 ? '' : 's'}`]
  if (info > 0) parts.push(`${info} info`)
  return `${total} problem${total === 1 ? '' : 's'} (${parts.join(', ')})`
}
