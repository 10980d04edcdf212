// One `Link` header line per relation. The Fetch Headers object joins repeated headers with ", ", and
// @hono/node-server writes that joined value as one line; acme.sh and uacme read Link headers line by line
// (RFC 8288 §3 allows both forms), so the node listener splits them back before writing.
import type { IncomingMessage, ServerResponse } from 'node:http'

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown

/** Splits `<a>;rel="x", <b>;rel="y"` into separate values at commas that start a new link-value. */
export const splitLinks = (value: string): string[] => value.split(/,\s*(?=<)/)

export function linkLinesPerRelation(listener: Listener): Listener {
  return function linkLinesPerRelation(req, res) {
    const writeHead = res.writeHead
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      const headers = args.find((a, i) => i > 0 && a && typeof a === 'object' && !Array.isArray(a)) as
        | Record<string, unknown>
        | undefined
      const link = headers?.['link']
      if (headers && typeof link === 'string' && link.includes(',')) headers['link'] = splitLinks(link)
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
    } as typeof res.writeHead
    return listener(req, res)
  }
}
