export { type SingleFlight, singleFlight } from './single-flight'
