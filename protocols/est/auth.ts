// RFC 7030 §3.2.3 and §3.3: who may enroll on a label — TLS client certificates (our CA or configured external
// CAs) and HTTP Basic — and §3.5 proof-of-possession linking through the TLS channel binding (RFC 9266).
import { TLSSocket } from 'node:tls'
import type { Context, MiddlewareHandler } from 'hono'
import { verifyPassword } from '../../src/config/est.js'
import { isIssuanceError } from '../../src/errors.js'
import { ekuClientAuth, TrustAnchors, validatePath, type PathResult } from '../../src/pki/path-validation.js'
import type { ParsedCsr } from '../../src/pki/csr.js'
import type { Der } from '../../src/pki/pem.js'
import type { CertificateRecord } from '../../src/store/index.js'
import type { EstClient, EstDeps, EstEnv, EstLabel } from './context.js'
import { basicChallenge, EstError } from './status.js'

type Ctx = Context<EstEnv>

/** The TLS connection a request came in on (undefined in-process, or behind a TLS-terminating proxy). */
export function tlsSocket(c: Ctx): TLSSocket | undefined {
  const socket = (c.env as EstEnv['Bindings'] | undefined)?.incoming?.socket
  return socket instanceof TLSSocket ? socket : undefined
}

// ── TLS client certificate ───────────────────────────────────────────────────────────────────────────

export type CertificateCheck =
  | { state: 'absent' }
  | { state: 'rejected'; reason: string }
  | { state: 'accepted'; serial: string; subject: string; record: CertificateRecord | undefined }

/** The peer's certificate and the chain it sent, DER; undefined without one. */
function peerChain(socket: TLSSocket): { leaf: Der; intermediates: Der[]; fingerprint: string } | undefined {
  const peer = socket.getPeerCertificate(true)
  if (!peer?.raw) return undefined
  const intermediates: Der[] = []
  const seen = new Set([peer.fingerprint256])
  for (let c = peer.issuerCertificate; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256)
    intermediates.push(new Uint8Array(c.raw))
  }
  return { leaf: new Uint8Array(peer.raw), intermediates, fingerprint: peer.fingerprint256 }
}

/**
 * Checks the TLS client certificate against the label's trust anchors: the CAs of the label's client profiles,
 * then the label's external CAs (the listener requests but does not verify client certificates, so this is the
 * check). A certificate of ours must have been issued under one of the label's client profiles, not through ACME.
 * The path is validated once per connection and certificate (a renegotiation may present another); a certificate
 * of ours must also be in the inventory, unrevoked, on every request.
 */
export function clientCertificateChecker(deps: EstDeps) {
  const validated = new WeakMap<TLSSocket, Map<string, Promise<{ path: PathResult; ours: boolean }>>>()
  const ourAnchors = new Map<string, Promise<TrustAnchors>>()
  const anchorsOf = (label: EstLabel) => {
    let p = ourAnchors.get(label.name)
    if (!p) {
      p = Promise.all(label.clientProfiles.map((profile) => deps.issuance.chainFor(profile))).then(
        (chains) => new TrustAnchors(chains.flat()),
      )
      p.catch(() => ourAnchors.delete(label.name))
      ourAnchors.set(label.name, p)
    }
    return p
  }

  async function validate(label: EstLabel, chain: { leaf: Der; intermediates: Der[] }) {
    const ours = await anchorsOf(label)
    const options = { extendedKeyUsage: ekuClientAuth }
    const path = await validatePath(chain.leaf, chain.intermediates, ours, options)
    if (path.ok) return { path, ours: true }
    if (!label.externalCas.certificates.length) return { path, ours: false }
    const external = await validatePath(chain.leaf, chain.intermediates, label.externalCas, options)
    return { path: external.ok ? external : path, ours: false }
  }

  return async function checkClientCertificate(c: Ctx, label: EstLabel): Promise<CertificateCheck> {
    const socket = tlsSocket(c)
    const chain = socket && peerChain(socket)
    if (!socket || !chain) return { state: 'absent' }
    let perLabel = validated.get(socket)
    if (!perLabel) validated.set(socket, (perLabel = new Map()))
    const key = `${label.name}\0${chain.fingerprint}`
    let pending = perLabel.get(key)
    if (!pending) perLabel.set(key, (pending = validate(label, chain)))
    const { path, ours } = await pending
    if (!path.ok) return { state: 'rejected', reason: path.reason }
    const serial = path.leaf.serialNumber.toLowerCase()
    const subject = path.leaf.subject
    if (!ours) return { state: 'accepted', serial, subject, record: undefined }
    let record: CertificateRecord
    try {
      record = await deps.issuance.find(serial)
    } catch (e) {
      if (isIssuanceError(e) && e.kind === 'notFound') {
        return { state: 'rejected', reason: `certificate ${serial} is not in this server's inventory` }
      }
      throw e
    }
    if (!record.der || Buffer.compare(Buffer.from(record.der), Buffer.from(chain.leaf)) !== 0) {
      return { state: 'rejected', reason: `certificate ${serial} differs from the one in the inventory` }
    }
    if (record.status !== 'valid') return { state: 'rejected', reason: `certificate ${serial} is ${record.status}` }
    if (record.protocol === 'acme') {
      return { state: 'rejected', reason: `certificate ${serial} was issued through ACME and does not authenticate EST` }
    }
    if (!label.clientProfiles.includes(record.profile)) {
      return { state: 'rejected', reason: `certificate ${serial} was issued under profile "${record.profile}", which this label does not accept` }
    }
    return { state: 'accepted', serial, subject, record }
  }
}

// ── HTTP Basic (RFC 7617) ────────────────────────────────────────────────────────────────────────────

export type BasicCheck = { state: 'absent' } | { state: 'bad'; user: string } | { state: 'accepted'; user: string }

/**
 * Checks `Authorization: Basic` against the label's users. A header already accepted on the same TLS
 * connection is not hashed again (scrypt is deliberately slow; keep-alive clients repeat the header).
 */
export function basicChecker() {
  const accepted = new WeakMap<object, Set<string>>()
  return async function checkBasic(c: Ctx, label: EstLabel): Promise<BasicCheck> {
    const header = c.req.header('Authorization') ?? ''
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
    if (!m) return { state: 'absent' }
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return { state: 'bad', user: decoded }
    const name = decoded.slice(0, colon)
    const memoKey = `${label.name}\0${m[1]}`
    const socket = tlsSocket(c)
    if (socket && accepted.get(socket)?.has(memoKey)) return { state: 'accepted', user: name }
    const user = label.config.users.find((u) => u.name === name)
    const ok = user ? await verifyPassword(user, decoded.slice(colon + 1)) : false
    if (!ok) return { state: 'bad', user: name }
    if (socket) {
      let set = accepted.get(socket)
      if (!set) accepted.set(socket, (set = new Set()))
      set.add(memoKey)
    }
    return { state: 'accepted', user: name }
  }
}

// ── the decision ─────────────────────────────────────────────────────────────────────────────────────

export type Operation = 'enroll' | 'reenroll'

/**
 * Applies the label's auth mode to what the client presented (pure; unit-tested as a table):
 * - Basic credentials are ignored on `cert` labels; elsewhere a wrong password is 401, and missing credentials
 *   where they are needed are 401 with the challenge; a missing or unacceptable certificate where one is needed is 403 (no HTTP challenge can fix it);
 * - simplereenroll needs an accepted certificate issued by this server (RFC 7030 §4.2.2), on top of the mode;
 * - `either`: an accepted certificate or accepted Basic credentials.
 */
export function decideAuth(
  label: Pick<EstLabel, 'name'> & { config: Pick<EstLabel['config'], 'auth'> },
  op: Operation,
  cert: CertificateCheck,
  basic: BasicCheck,
): EstClient {
  const realm = `EST ${label.name}`
  const mode = label.config.auth
  if (mode === 'cert') basic = { state: 'absent' }
  if (basic.state === 'bad') throw basicChallenge(realm, 'the user name or password is wrong')
  const certificate =
    cert.state === 'accepted' ? { serial: cert.serial, subject: cert.subject, record: cert.record } : undefined
  const certProblem =
    cert.state === 'rejected' ? `the TLS client certificate is not accepted: ${cert.reason}` : 'a TLS client certificate is required'
  const basicUser = basic.state === 'accepted' ? basic.user : undefined
  if ((mode === 'cert' || mode === 'both' || op === 'reenroll') && !certificate) {
    throw new EstError(
      403,
      op === 'reenroll' && cert.state === 'absent'
        ? 'simplereenroll needs the TLS client certificate being renewed (RFC 7030 §4.2.2)'
        : certProblem,
    )
  }
  if (op === 'reenroll' && !certificate?.record) {
    throw new EstError(403, 'simplereenroll renews certificates issued by this server; this one was issued elsewhere')
  }
  if ((mode === 'basic' || mode === 'both') && !basicUser) throw basicChallenge(realm, 'HTTP Basic credentials are required')
  if (!certificate && !basicUser) {
    throw basicChallenge(realm, cert.state === 'rejected' ? `${certProblem}; or authenticate with HTTP Basic` : 'authentication is required')
  }
  if (basicUser !== undefined && op !== 'reenroll') return { requester: `basic:${basicUser}`, certificate }
  return { requester: `cert:${certificate!.subject}#${certificate!.serial}`, certificate }
}

/**
 * Middleware factory: `authenticate(op)` authenticates a request for `op` and sets `client`. The certificate and
 * Basic checkers (and their per-connection memory) are shared by every route of the app.
 */
export function authenticator(deps: EstDeps) {
  const checkCertificate = clientCertificateChecker(deps)
  const checkBasic = basicChecker()
  return (op: Operation): MiddlewareHandler<EstEnv> =>
    async function authenticate(c, next) {
      const label = c.get('label')
      const [cert, basic] = await Promise.all([
        checkCertificate(c, label),
        label.config.auth === 'cert' ? ({ state: 'absent' } as const) : checkBasic(c, label),
      ])
      c.set('client', decideAuth(label, op, cert, basic))
      await next()
    }
}

// ── proof-of-possession linking (RFC 7030 §3.5, RFC 9266) ───────────────────────────────────────────

const EXPORTER_LABEL = 'EXPORTER-Channel-Binding'

/**
 * The channel bindings of the connection: tls-exporter (RFC 9266 §2: 32 bytes, label EXPORTER-Channel-Binding,
 * no context), and on TLS 1.2 also tls-unique (RFC 5929 §3.1: the first Finished message of the latest
 * handshake — the client's on a full handshake, the server's on a resumption).
 */
export function channelBindings(socket: TLSSocket): Buffer[] {
  const out: Buffer[] = []
  try {
    // No context argument at all: RFC 9266 §2 (Node's typings demand one, its implementation does not).
    out.push(socket.exportKeyingMaterial(32, EXPORTER_LABEL, undefined as unknown as Buffer))
  } catch {
    // not available on this connection
  }
  if (socket.getProtocol() !== 'TLSv1.3') {
    const unique = socket.isSessionReused() ? socket.getFinished() : socket.getPeerFinished()
    if (unique) out.push(unique)
  }
  return out
}

/** A challengePassword that is a base64 channel binding: 12 bytes (tls-unique, TLS 1.2) or 32 (tls-exporter). */
function asBinding(password: string): Buffer | undefined {
  const t = password.trim()
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) return undefined
  const bytes = Buffer.from(t, 'base64')
  return bytes.length === 12 || bytes.length === 32 ? bytes : undefined
}

/**
 * RFC 7030 §3.5: when the CSR's challengePassword carries a channel binding, it must be this connection's —
 * which proves the CSR was made for this TLS session by the authenticated client. With `required`, every
 * enrollment must carry one.
 */
export function requireChannelBinding(c: Ctx, csr: ParsedCsr, label: EstLabel): void {
  const claimed = csr.challengePassword === undefined ? undefined : asBinding(csr.challengePassword)
  if (!claimed) {
    if (label.config.channelBinding === 'required') {
      throw new EstError(
        403,
        'this label requires proof-of-possession linking: put the base64 tls-exporter (TLS 1.3) or tls-unique ' +
          '(TLS 1.2) value in the CSR challengePassword (RFC 7030 §3.5)',
      )
    }
    return
  }
  const socket = tlsSocket(c)
  const bindings = socket ? channelBindings(socket) : []
  if (!bindings.some((b) => b.equals(claimed))) {
    throw new EstError(403, "the CSR's challengePassword does not match this TLS session's channel binding (RFC 7030 §3.5)")
  }
}
