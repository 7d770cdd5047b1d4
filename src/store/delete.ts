import type { Store } from './client.ts'

/** Where the rows of one event are, by the column that holds its id. */
const rowsOfEvent = [
  ['events', 'id'], ['host_samples', 'event_id'], ['filesystem_samples', 'event_id'],
  ['interface_samples', 'event_id']
] as const

/**
 * Deletes every row of the events `ids`, in every table. ClickHouse runs the deletes in the
 * background (a mutation per table), so the rows may stay visible for a moment.
 */
export async function deleteEventRows (store: Store, ids: number[]): Promise<void> {
  for (const [table, column] of rowsOfEvent) {
    await store.command(
      `ALTER TABLE ${store.table(table)} DELETE WHERE has({ids:Array(UInt64)}, ${column})`, { ids })
  }
}
