// Group commit for the issuance hot path: calls made in the same event-loop turn are written as one statement
// (one round trip, one WAL flush) instead of one each. A batch that fails is retried item by item, so one bad
// item never fails the others.

export interface Batcher<I, O> {
  (item: I): Promise<O>
}

/** `many` answers each item in order: its result, or an Error for that item alone. */
export function batcher<I, O>(
  many: (items: I[]) => Promise<(O | Error)[]>,
  one: (item: I) => Promise<O>,
  maxBatch = 128,
): Batcher<I, O> {
  let queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = []
  const flush = () => {
    while (queue.length) {
      const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue
      if (batch === queue) queue = []
      if (batch.length === 1) {
        const [only] = batch
        one(only!.item).then(only!.resolve, only!.reject)
        continue
      }
      many(batch.map((b) => b.item)).then(
        (results) =>
          batch.forEach((b, i) => {
            const r = results[i]!
            if (r instanceof Error) b.reject(r)
            else b.resolve(r)
          }),
        () => batch.forEach((b) => one(b.item).then(b.resolve, b.reject)),
      )
    }
  }
  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject })
      if (queue.length === 1) setImmediate(flush)
    })
}
