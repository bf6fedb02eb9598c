export { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable, launchChromium } from './chromium'
export { type TempMysqlDatabase, type TempPgSchema, tempMysqlDatabase, tempPgSchema } from './databases'
export { type FaultMode, type FaultProxy, faultProxy } from './fault-proxy'
export { freePort } from './free-port'
export { type LoopLag, watchLoopLag } from './loop-lag'
export { type ManualTime, type ManualTimer, manualTime } from './manual-time'
export {
  IDLE_EXIT_MS,
  type NodeRun,
  type RunNodeOptions,
  type RunScriptOptions,
  runNode,
  runNodeSource,
  runScript,
  type ScriptRun,
} from './node-process'
export { dropRedisPrefix, uniquePrefix } from './prefix'
export {
  failoverClusterOptions,
  failoverTestsEnabled,
  type RedisCluster,
  type RedisClusterNode,
  type RedisFailover,
  type RedisFailoverOptions,
  type StartRedisClusterOptions,
  startRedisCluster,
} from './redis-cluster'
export { type RedisServer, type StartRedisOptions, startRedis } from './redis-server'
export { databaseUrl, mysqlUrl, needService, pingRedis, redisUrl, type ServiceName } from './services'
