/** `--url`: the server's usable connection slots, read with inspect's SERVER_SQL (one query, one connection). */
import type {Logger} from 'pino'

import {serverInfo} from '../inspect/analyse.js'
import {type ServerRow, SERVER_SQL} from '../inspect/queries.js'
import {closeClient, connectClient} from '../pg/connect.js'
import type {ConnectionSettings} from '../pg/connection-settings.js'
import {describeQueryError} from '../pg/errors.js'

export interface UsableSlots {
  slots: number
  /** For messages: "max_connections 100 − 3 reserved for superusers". */
  source: string
}

export async function readUsableSlots(settings: ConnectionSettings, logger?: Logger): Promise<UsableSlots> {
  const client = await connectClient(settings, {applicationNameSuffix: 'doctor', logger})
  try {
    let row: Omit<ServerRow, 'statement_timeout'>
    try {
      row = (await client.query<Omit<ServerRow, 'statement_timeout'>>(SERVER_SQL)).rows[0]
    } catch (error) {
      throw describeQueryError(error, 'reading the server settings')
    }
    const info = serverInfo({...row, statement_timeout: null})
    const reserved = [`${info.superuserReservedConnections} reserved for superusers`]
    if (info.reservedConnections > 0) reserved.push(`${info.reservedConnections} reserved_connections`)
    return {slots: info.usableConnections, source: `max_connections ${info.maxConnections} − ${reserved.join(' − ')} on ${settings.displayUrl}`}
  } finally {
    await closeClient(client)
  }
}
