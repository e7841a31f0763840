import type {Logger} from 'pino'

import type {ConnectionSettings} from '../pg/connection-settings.js'
import type {ServerCapacity} from '../sizing/sizing.js'

/** max_connections and both reserves, read with inspect's server query over one short connection. */
export async function readServerCapacity(settings: ConnectionSettings, logger?: Logger): Promise<ServerCapacity> {
  const {closeClient, connectClient} = await import('../pg/connect.js')
  const {SERVER_SQL} = await import('../inspect/queries.js')
  const {serverInfo} = await import('../inspect/analyse.js')
  const {describeQueryError} = await import('../pg/errors.js')
  const client = await connectClient(settings, {applicationNameSuffix: 'init', logger})
  try {
    const {rows} = await client.query(SERVER_SQL).catch((error: unknown) => {
      throw describeQueryError(error, 'reading max_connections')
    })
    const server = serverInfo({...rows[0], statement_timeout: null})
    return {
      maxConnections: server.maxConnections,
      reservedConnections: server.reservedConnections,
      source: 'server',
      superuserReservedConnections: server.superuserReservedConnections,
    }
  } finally {
    await closeClient(client)
  }
}
