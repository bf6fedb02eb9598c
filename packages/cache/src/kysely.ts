export { type KyselyStoreDialect, type KyselyStoreOptions, kyselyStore } from './kysely-store'
