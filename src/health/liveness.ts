/**
 * Whether a host is heard from as often as its agent promises. A sample normally reaches
 * ClickHouse within a second or two of its time; two missed intervals is late, ten is down.
 */
export type HostState = 'up' | 'late' | 'down'

const slackSeconds = 5

export function hostState (ageSeconds: number, intervalMs: number): HostState {
  const interval = Math.max(1, intervalMs / 1000)
  if (ageSeconds <= 2 * interval + slackSeconds) return 'up'
  if (ageSeconds <= 10 * interval + slackSeconds) return 'late'
  return 'down'
}

/** Share of the samples taken that were stored, 0..1; 1 when nothing was expected. */
export function completeness (stored: number, expected: number): number {
  return expected <= 0 ? 1 : Math.min(1, stored / expected)
}
