import {Flags} from '@oclif/core'

import {parseDurationMillis} from './duration.js'

/** A duration flag in milliseconds: `500ms`, `10s`, `2m`, `1h`; a bare number means seconds. */
export const durationFlag = Flags.custom<number>({
  async parse(input, _context, options) {
    return parseDurationMillis(input, options.name)
  },
})
