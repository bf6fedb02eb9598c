import { runConformance } from './runner'

await runConformance('mysql')
