// Strict base64url for JWTs (RFC 7515 §2: base64url without padding). Node's decoder and the
// forgiving atob jose uses skip what they do not understand — padding, characters outside the
// alphabet, set bits past the last byte — so a signature with characters appended, or its last
// character changed in its unused bits, decoded to the same bytes and verified. Here a part must be
// exactly what encoding its bytes gives back.

const ALPHABET = /^[A-Za-z0-9_-]*$/

/** The bytes of `part` when it is canonical unpadded base64url, else undefined. */
export function decodeBase64url(part: string): Buffer | undefined {
  if (part.length % 4 === 1 || !ALPHABET.test(part)) return undefined
  const bytes = Buffer.from(part, 'base64url')
  return bytes.toString('base64url') === part ? bytes : undefined
}

/** Whether `token` is three canonical base64url parts joined by dots (a compact JWS), header and signature not empty. */
export function isCompactJws(token: string): boolean {
  const parts = token.split('.')
  return (
    parts.length === 3 &&
    parts[0] !== '' &&
    parts[2] !== '' &&
    parts.every((part) => decodeBase64url(part) !== undefined)
  )
}
