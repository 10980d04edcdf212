// Timing helpers: a shared-queue worker pool that records per-call latency, and order statistics.

export interface RunResult {
  count: number
  concurrency: number
  seconds: number
  /** Operations per second over the whole run (count / wall time). */
  perSecond: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

/** Nearest-rank percentile of an ascending-sorted array; q in [0, 1]. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

export const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  )

/**
 * Runs `op(i)` for i in [0, count) with `concurrency` workers pulling the next index from one shared
 * counter, so a slow call never holds back the others. Latency is measured per call, queueing included.
 */
export async function runPool(
  count: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<RunResult> {
  const latencies = new Float64Array(count)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const t0 = performance.now()
      await op(i)
      latencies[i] = performance.now() - t0
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  const seconds = (performance.now() - started) / 1000
  latencies.sort()
  return {
    count,
    concurrency,
    seconds,
    perSecond: count / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies[count - 1] ?? Number.NaN,
  }
}
