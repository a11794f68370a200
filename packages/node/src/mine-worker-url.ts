/**
 * The proof-of-work mining threads' entry for this build: from the bundle, `dist/mine-worker.js`
 * (bundle.ts builds packages/consensus/src/pow/mine-worker.ts there, beside `dist/start.js`; the
 * engine's own default, a sibling of the chunk holding MinerPool, does not exist in a bundle); from
 * the sources, undefined (MinerPool runs its .ts sibling through tsx).
 */
export function mineWorkerUrl(here: string = import.meta.url): URL | undefined {
  if (here.endsWith('.ts')) return undefined
  const at = here.lastIndexOf('/dist/')
  if (at < 0) return undefined
  return new URL('mine-worker.js', here.slice(0, at + '/dist/'.length))
}
