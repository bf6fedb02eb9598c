export { listenLocal, sendJson } from './local-http'
export { ProgressBar } from './progress-bar'
export { formatMs, formatPercent, latencyTable, reportSections, reportTable } from './report-table'
