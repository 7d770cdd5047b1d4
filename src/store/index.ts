export { Store, type StoreConfig, type QueryOptions } from './client.ts'
export { featuresOf, parseVersion, legacyFeatures, modernFeatures, type Features,
  type ServerVersion } from './features.ts'
export { migrate, defaultSchemaOptions } from './migrate.ts'
export { migrations, columnTypes, type Migration, type SchemaOptions } from './schema.ts'
export { identifier, bindLiterals, quote, type ParamValue } from './sql.ts'
export { completenessPerHost, latestPerHost, type HostCompleteness,
  type HostSummary } from './queries.ts'
export { deleteEventRows } from './delete.ts'
