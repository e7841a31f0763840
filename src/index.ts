// The package root (`import {...} from 'poolctl'`) is the core library; the pg adapter is `poolctl/pg`.
export * from './core/index.js'
