export { ProgressBar } from './progress-bar'
export { formatMs, formatPercent, latencyTable, reportSections, reportTable } from './report-table'
