export { Ingest, type IngestOptions } from './ingest.ts'
export { BatchWriter, type WriteResult } from './writer.ts'
export { classifyStoreError, type StoreFailure } from './classify.ts'
export { RowBuilder, eventId, emptyRows, timeValue, OFFSET_BITS, MAX_PARTITIONS,
  type MessageCoordinates, type Rows } from './rows.ts'
export { DeadLetterSink } from './dead-letters.ts'
