/**
 * The media types a JSON-RPC POST may carry, as geth accepts them. Anything else — above all the
 * `text/plain`, `application/x-www-form-urlencoded` and `multipart/form-data` that a web page can
 * POST to 127.0.0.1:8545 without a CORS preflight — is refused with 415 before the body is read, so
 * no page a user visits can send transactions from the node's unlocked accounts.
 */
const ACCEPTED = new Set(['application/json', 'application/json-rpc', 'application/jsonrequest'])

/** Whether a POST with this Content-Type header is a JSON-RPC body (parameters such as charset ignored). */
export function isJsonContentType(header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false
  // What nearly every client sends, without splitting it.
  if (header === 'application/json') return true
  const type = header.split(';')[0]?.trim().toLowerCase() ?? ''
  return ACCEPTED.has(type)
}
