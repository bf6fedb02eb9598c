import { readConfig } from './config'
import { startTokenManager } from './server'

const running = await startTokenManager(readConfig())
console.log(`token manager listening on ${running.url} (fake video API ${running.api.url})`)
console.log(
  `try: curl -s ${running.url}/tokens; curl -s -XPOST ${running.url}/videos -H 'content-type: application/json' -d '{"prompt":"a cat"}'`,
)

const shutdown = async () => {
  await running.stop()
  process.exit(0)
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
