export { ProgressBar } from './progress-bar'
export { formatMs, formatPercent, reportSections, reportTable } from './report-table'
