// The best k of many scores without sorting them all: the search ranks tens of thousands of
// candidates a block in a busy market and sizes only the best few hundred.

/**
 * The indices of the `k` largest of `scores`, ascending, ties broken by the lower index — the same
 * set as sorting by (score descending, index ascending) and taking the first k. Expected O(n).
 * Scores must not be NaN.
 */
export function topK(scores: Float64Array, k: number): number[] {
  const n = scores.length
  if (k >= n) return Array.from({ length: n }, (_, i) => i)
  if (k <= 0) return []
  const threshold = kthLargest(Float64Array.from(scores), k)
  const out: number[] = []
  let above = 0
  for (let i = 0; i < n; i++) if (scores[i]! > threshold) above++
  let ties = k - above
  for (let i = 0; i < n; i++) {
    const s = scores[i]!
    if (s > threshold || (s === threshold && ties-- > 0)) out.push(i)
  }
  return out
}

/** The k-th largest value (1-based) of `a`, which it reorders (quickselect, middle pivot). */
function kthLargest(a: Float64Array, k: number): number {
  let lo = 0
  let hi = a.length - 1
  const target = k - 1 // in descending order
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!
    let i = lo
    let j = hi
    while (i <= j) {
      while (a[i]! > pivot) i++
      while (a[j]! < pivot) j--
      if (i <= j) {
        const t = a[i]!
        a[i] = a[j]!
        a[j] = t
        i++
        j--
      }
    }
    if (target <= j) hi = j
    else if (target >= i) lo = i
    else return a[target]!
  }
  return a[target]!
}
