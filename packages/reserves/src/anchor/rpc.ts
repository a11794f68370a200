import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'

let nextId = 1

/** One JSON-RPC 2.0 call over HTTP; node errors become RESERVES_ANCHOR_FAILED. */
export async function rpcCall<T>(url: string, method: string, params: unknown[]): Promise<T> {
  let body: { result?: T; error?: { code: number; message: string } }
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    })
    body = (await res.json()) as typeof body
  } catch (err) {
    throw new CairnError(
      ReservesErrorCode.ANCHOR_FAILED,
      `cannot reach the node at ${url}: ${(err as Error).message}`,
      {
        fault: 'transient',
        cause: err,
        hint: 'check --rpc',
      },
    )
  }
  if (body.error)
    throw new CairnError(ReservesErrorCode.ANCHOR_FAILED, `${method} failed: ${body.error.message}`, {
      fault: 'caller',
      meta: { rpcCode: body.error.code },
    })
  return body.result as T
}
