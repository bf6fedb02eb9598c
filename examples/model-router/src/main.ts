import { readConfig } from './config'
import { startRouter } from './server'

const running = await startRouter(readConfig())
console.log(`model router listening on ${running.url}`)
console.log(`fake providers: ${[...running.providers.values()].map((p) => `${p.name} ${p.url}`).join(', ')}`)
console.log('try: curl -s localhost:8080/v1/models | head; curl -s localhost:8080/stats')

const shutdown = async () => {
  await running.stop()
  process.exit(0)
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
