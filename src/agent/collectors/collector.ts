import type { FamilyValues, MetricFamily } from '../../event/schema.ts'

/** Reads one metric family. Collectors that report rates keep the previous reading. */
export interface Collector<F extends MetricFamily> {
  readonly family: F
  collect (): Promise<FamilyValues[F]>
}

export type Collectors = { [F in MetricFamily]: Collector<F> }

/** Milliseconds from an arbitrary origin that never goes backwards (unlike the wall clock). */
export type MonotonicClock = () => number

export const monotonicClock: MonotonicClock = () => performance.now()
