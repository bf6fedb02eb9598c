import parsePrometheusTextFormat from 'parse-prometheus-text-format'

/** One family as parse-prometheus-text-format returns it (values stay strings). */
export interface ParsedFamily {
  name: string
  help: string
  type: string
  metrics: Array<{
    labels?: Record<string, string>
    value?: string
    buckets?: Record<string, string>
    quantiles?: Record<string, string>
    count?: string
    sum?: string
  }>
}

/** Parses a text exposition with the parse-prometheus-text-format package. */
export const parse = (text: string) => parsePrometheusTextFormat(text) as unknown as ParsedFamily[]
