import { runConformance } from './runner'

await runConformance('sqlite')
