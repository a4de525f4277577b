/**
 * Publish-to-receipt latencies as a histogram: 10 µs buckets up to 100 ms,
 * 1 ms buckets up to 2 minutes, and the exact maximum. A 10k-subscriber run
 * makes millions of latencies; a histogram keeps the load generator's memory
 * flat and merges across its processes by adding counts.
 */

const FINE_US = 10
const FINE_UNTIL_US = 100_000
const COARSE_US = 1000
const COARSE_UNTIL_US = 120_000_000
const FINE = FINE_UNTIL_US / FINE_US
const SIZE = FINE + (COARSE_UNTIL_US - FINE_UNTIL_US) / COARSE_US + 1

/** What a histogram sends over IPC: its non-empty buckets. */
export interface HistogramData {
  buckets: [index: number, count: number][]
  count: number
  maxUs: number
}

export class Histogram {
  readonly #counts = new Uint32Array(SIZE)
  count = 0
  maxUs = 0

  /** Records one latency; negative ones (clock steps) count as 0, past 2 minutes as 2 minutes. */
  record(us: number): void {
    const v = Math.max(us, 0)
    const i =
      v < FINE_UNTIL_US
        ? Math.floor(v / FINE_US)
        : Math.min(SIZE - 1, FINE + Math.floor((v - FINE_UNTIL_US) / COARSE_US))
    this.#counts[i] = (this.#counts[i] ?? 0) + 1
    this.count++
    if (v > this.maxUs) this.maxUs = v
  }

  /** The q-th percentile in ms (nearest rank, the upper edge of its bucket, never above the maximum); 0 when empty. */
  percentileMs(q: number): number {
    if (this.count === 0) return 0
    const rank = Math.max(1, Math.ceil((q / 100) * this.count))
    let seen = 0
    for (let i = 0; i < SIZE; i++) {
      seen += this.#counts[i] ?? 0
      if (seen >= rank) {
        const upper = i < FINE ? (i + 1) * FINE_US : FINE_UNTIL_US + (i - FINE + 1) * COARSE_US
        return Math.min(upper, this.maxUs) / 1000
      }
    }
    return this.maxUs / 1000
  }

  toData(): HistogramData {
    const buckets: [number, number][] = []
    this.#counts.forEach((count, i) => {
      if (count > 0) buckets.push([i, count])
    })
    return { buckets, count: this.count, maxUs: this.maxUs }
  }

  /** Adds another histogram's counts (from another process). */
  add(data: HistogramData): void {
    for (const [i, count] of data.buckets) this.#counts[i] = (this.#counts[i] ?? 0) + count
    this.count += data.count
    this.maxUs = Math.max(this.maxUs, data.maxUs)
  }
}
