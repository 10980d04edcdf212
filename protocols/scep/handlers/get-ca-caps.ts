// RFC 8894 §3.5.1: GetCACaps — the capabilities of this server, one per line, text/plain.
import { caCaps } from '../caps.js'
import type { ScepDeps, ScepHandler } from '../context.js'

export const getCaCaps = (deps: ScepDeps): ScepHandler => {
  const body = `${caCaps(deps.config.scep).join('\n')}\n`
  return (c) => c.text(body, 200, { 'Cache-Control': 'max-age=300' })
}
