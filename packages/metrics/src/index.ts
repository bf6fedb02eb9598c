export {
  describeMetrics,
  type MetricsDescriptor,
  type MetricsKind,
  type MetricsSource,
  metricsSource,
} from '@hotpath/core'
export { type Advice, type AdviseOptions, advise, report } from './advise'
export {
  type CapacityOptions,
  type CapacityPlan,
  type CapacitySample,
  capacity,
} from './capacity'
export { type Collector, collect, type SourceKind, type StatsSource, sourceKind } from './collect'
export { Counter, CounterSeries } from './counter'
export {
  errors,
  HistogramDecodeError,
  LabelError,
  LowMemoryError,
  MetricConflictError,
  MetricsError,
  ProfilerBusyError,
} from './errors'
export { Gauge, GaugeSeries } from './gauge'
export { Histogram, HistogramSeries, type HistogramStats, SNAPSHOT_PERCENTILES, type View } from './histogram'
export type { LabelValues } from './labels'
export { type LeakReport, type LeakWatch, type LeakWatchOptions, leakWatch, linearFit } from './leak-watch'
export { type CardinalityWarning, type MetricType, OVERFLOW_LABEL_VALUE } from './metric'
export { type TimingMiddleware, type TimingOptions, timingMiddleware, UNMATCHED_ROUTE } from './middleware'
export {
  type CpuProfile,
  type CpuProfileOptions,
  cpuProfile,
  type HeapProfile,
  type HeapProfileOptions,
  heapProfile,
  heapSnapshot,
} from './profiler'
export {
  exportedName,
  PROMETHEUS_CONTENT_TYPE,
  type PrometheusOptions,
  prometheusHandler,
  type ReplyLike,
  type ResponseLike,
} from './prometheus'
export { createRegistry, Registry } from './registry'
export type {
  AnyMetric,
  HistogramOptions,
  MetricOptions,
  MetricSnapshot,
  RegistryOptions,
  RegistrySnapshot,
  SeriesSnapshot,
} from './registry-options'
export {
  type RuntimeMetrics,
  type RuntimeMetricsOptions,
  type RuntimeSample,
  runtimeMetrics,
} from './runtime'
export { type SlowCall, type SlowLogger, type SlowLogOptions, slowLog } from './slow-log'
export { fitUsl, type UslModel, uslPeak, uslThroughput } from './usl'
