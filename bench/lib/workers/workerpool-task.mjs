// The same task registered the way workerpool expects (a named method of `workerpool.worker`).
import workerpool from 'workerpool'
import work from './task.mjs'

workerpool.worker({ work })
