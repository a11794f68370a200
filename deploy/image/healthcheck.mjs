// The image's HEALTHCHECK (and compose's): exit 0 when the node answers GET /health, 1 otherwise.
// `node healthcheck.mjs [URL]`; the default is http://127.0.0.1:$CAIRN_HTTP_PORT/health (port 8545).
const url = process.argv[2] ?? `http://127.0.0.1:${process.env.CAIRN_HTTP_PORT || 8545}/health`
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) })
  process.exit(res.ok ? 0 : 1)
} catch {
  process.exit(1)
}
