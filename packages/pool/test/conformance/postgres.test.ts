import { runConformance } from './runner'

await runConformance('postgres')
