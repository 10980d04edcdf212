// Issuance through the one service path (policy → write-ahead reserve → LocalCa.sign → complete + audit).
import { parseCsr, type ParsedCsr } from '../src/pki/csr.js'
import type { Core } from '../src/server.js'
import { runPool, type RunResult } from './stats.js'

const request = (csr: ParsedCsr) =>
  ({ csr, protocol: 'admin', requester: 'bench', profile: 'default' }) as const

async function issueOne(core: Core, csr: ParsedCsr): Promise<void> {
  const outcome = await core.issuance.issue(request(csr))
  if (outcome.status !== 'issued') throw new Error(`bench: issuance ended ${outcome.status}`)
}

/** Service only: CSRs parsed beforehand. */
export const issueParsed = (
  core: Core,
  csrs: ParsedCsr[],
  concurrency: number,
): Promise<RunResult> => runPool(csrs.length, concurrency, (i) => issueOne(core, csrs[i]!))

/** What a protocol handler does after decoding: parseCsr (incl. the self-signature check), then issue. */
export const issueFromDer = (
  core: Core,
  ders: Uint8Array[],
  concurrency: number,
): Promise<RunResult> =>
  runPool(ders.length, concurrency, async (i) => issueOne(core, await parseCsr(ders[i]!)))
