// `poolctl/pg`: the pg adapter of the core (a ConnectionPool of pg.Client with pg-specific safety).
export {createPgPool, isConnectionError} from './pg-pool.js'
export type {PgClient, PgPoolOptions} from './pg-pool.js'
