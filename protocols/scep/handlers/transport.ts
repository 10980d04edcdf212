// RFC 8894 §4.1 message transport: POST with the binary pkiMessage as body, or GET with `message=<base64>`.
// GET values are taken from the raw query so unescaped `+` and `/` (macOS) survive, and spaces — a `+` that a
// form decoder turned into one — and line breaks are tolerated.
import type { Context } from 'hono'
import type { ScepEnv } from '../context.js'
import { ScepHttpError } from '../fail-info.js'

const base64 = /^[A-Za-z0-9+/]+={0,2}$/

function fromBase64(text: string): Uint8Array {
  const b64 = text.replace(/ /g, '+').replace(/[\r\n\t]/g, '').replace(/-/g, '+').replace(/_/g, '/')
  if (!b64 || !base64.test(b64) || b64.length % 4 === 1) throw new ScepHttpError(400, 'the message is not base64')
  return new Uint8Array(Buffer.from(b64, 'base64'))
}

/** The raw (still percent-encoded) value of one query parameter. */
function rawQueryValue(url: string, name: string): string | undefined {
  const query = url.split('?')[1] ?? ''
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=')
    if (eq > 0 && pair.slice(0, eq).toLowerCase() === name) return pair.slice(eq + 1)
  }
  return undefined
}

export async function readPkiMessage(c: Context<ScepEnv>): Promise<Uint8Array> {
  if (c.req.method === 'POST') {
    const body = new Uint8Array(await c.req.arrayBuffer())
    if (body.byteLength === 0) throw new ScepHttpError(400, 'the POST body is empty; expected a DER pkiMessage')
    // Binary DER starts with a SEQUENCE tag; a few clients POST base64 text instead.
    if (body[0] === 0x30) return body
    return fromBase64(Buffer.from(body).toString('latin1').trim())
  }
  const raw = rawQueryValue(c.req.url, 'message')
  if (raw === undefined || raw === '') throw new ScepHttpError(400, 'PKIOperation by GET needs a message parameter')
  let text: string
  try {
    text = decodeURIComponent(raw)
  } catch {
    throw new ScepHttpError(400, 'the message parameter is not valid percent-encoding')
  }
  return fromBase64(text)
}
