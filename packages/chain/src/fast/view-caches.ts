import { Caches, CacheType } from '@ethereumjs/statemanager'
import { LRUCache } from 'lru-cache'

/**
 * The caches of a shared read view (`StateViews.stateAt`): bounded LRU caches of accounts, storage
 * slots and code, as @ethereumjs's `CacheType.LRU`, but growing as they fill. @ethereumjs builds
 * each LRU with `max`, and lru-cache then allocates its arrays for `max` entries up front: ~1 MB
 * for a view of 20,000 accounts and 20,000 slots. A view is made per new head root, and under a
 * transfer load the head moves tens of times a second (the pool reads the senders at each), so
 * those arrays were allocated and collected at that rate. Bounded by `maxSize` (one unit per
 * entry) instead, lru-cache grows its arrays as entries arrive; eviction is the same.
 */
export function growingViewCaches(sizes: { accounts: number; slots: number; codes: number }): Caches {
  const caches = new Caches({
    account: { type: CacheType.LRU, size: 1 },
    storage: { type: CacheType.LRU, size: 1 },
    code: { type: CacheType.LRU, size: 1 },
  })
  const growing = (entries: number) =>
    new LRUCache<string, object>({ maxSize: entries, sizeCalculation: () => 1, updateAgeOnGet: true })
  setLru(caches.account, growing(sizes.accounts))
  setLru(caches.storage, growing(sizes.slots))
  setLru(caches.code, growing(sizes.codes))
  return caches
}

function setLru(cache: unknown, lru: LRUCache<string, object>): void {
  const c = cache as { _lruCache?: LRUCache<string, object> }
  if (!c._lruCache) throw new TypeError('@ethereumjs cache without an LRU: growingViewCaches needs updating')
  c._lruCache = lru
}
