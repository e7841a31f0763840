/** Reporters turn a DoctorResult into text; they compute nothing about the code. */
import type {DoctorResult} from '../doctor.js'
import {compact} from './compact.js'
import {gcc} from './gcc.js'
import {github} from './github.js'
import {json} from './json.js'
import {sarif} from './sarif.js'

export interface ReportOptions {
  /** For gcc's relative paths. */
  cwd: string
  /** poolctl's version, for SARIF's tool.driver. */
  version: string
}

export type Reporter = (result: DoctorResult, options: ReportOptions) => string

export const FORMATS = ['compact', 'gcc', 'json', 'sarif', 'github'] as const
export type Format = (typeof FORMATS)[number]

export const REPORTERS: Record<Format, Reporter> = {compact, gcc, github, json, sarif}
