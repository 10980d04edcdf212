// The ACME route table (RFC 8555 §7.1): method, path, authentication mode and handler, one line each.
//   public: no JWS · jwk: signed with an embedded key · kid: signed by an account · either: jwk or kid
import type { Hono } from 'hono'
import type { AcmeContext, AcmeEnv } from './context.js'
import { account, newAccount } from './handlers/account.js'
import { authz, newAuthz } from './handlers/authz.js'
import { certificate, issuer } from './handlers/certificate.js'
import { challenge } from './handlers/challenge.js'
import { directory } from './handlers/directory.js'
import { finalize } from './handlers/finalize.js'
import { keyChange } from './handlers/key-change.js'
import { newNonce } from './handlers/new-nonce.js'
import { newOrder, order } from './handlers/order.js'
import { ordersList } from './handlers/orders-list.js'
import { renewalInfo } from './handlers/renewal-info.js'
import { revokeCert } from './handlers/revoke.js'
import { paths } from './links.js'
import { requireJoseContentType, requirePostAsGet, verifyJws } from './middleware.js'
import { AcmeProblem } from './problems.js'

export function routes(app: Hono<AcmeEnv>, ctx: AcmeContext): void {
  const jose = requireJoseContentType()
  const jwk = verifyJws(ctx, 'jwk')
  const kid = verifyJws(ctx, 'kid')
  const either = verifyJws(ctx, 'either')
  // The authorization the URL names (or whose challenge it names) is read with the nonce: no statement of its own.
  const kidWithAuthz = verifyJws(ctx, 'kid', 'authz')
  const kidWithChallengeAuthz = verifyJws(ctx, 'kid', 'challenge')
  const get = requirePostAsGet()

  /* public */ app.get(paths.directory, directory(ctx))
  /* public */ app.on(['GET', 'HEAD'], paths.newNonce, newNonce())
  /* public */ app.get(`${paths.renewalInfo}/:certId`, renewalInfo(ctx))
  /* jwk    */ app.post(paths.newAccount, jose, jwk, newAccount(ctx))
  /* either */ app.post(paths.revokeCert, jose, either, revokeCert(ctx))
  /* kid    */ app.post(paths.keyChange, jose, kid, keyChange(ctx))
  /* kid    */ app.post(paths.newOrder, jose, kid, newOrder(ctx))
  /* kid    */ app.post(paths.newAuthz, jose, kid, newAuthz(ctx))
  /* kid    */ app.post(paths.account, jose, kid, account(ctx))
  /* kid    */ app.post(paths.orders, jose, kid, get, ordersList(ctx))
  /* kid    */ app.post(paths.order, jose, kid, get, order(ctx))
  /* kid    */ app.post(paths.finalize, jose, kid, finalize(ctx))
  /* kid    */ app.post(paths.authz, jose, kidWithAuthz, authz(ctx))
  /* kid    */ app.post(paths.challenge, jose, kidWithChallengeAuthz, challenge(ctx))
  /* kid    */ app.post(paths.certificate, jose, kid, get, certificate(ctx))
  /* kid    */ app.post(paths.issuer, jose, kid, get, issuer(ctx))

  // RFC 8555 §6.3: only the directory, newNonce and renewalInfo answer GET; everything else is POST.
  app.all('*', async (c) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') {
      throw new AcmeProblem('malformed', 'use POST (POST-as-GET for reads)', { status: 405, headers: { Allow: 'POST' } })
    }
    throw new AcmeProblem('malformed', `${c.req.path} is not an ACME resource`, { status: 404 })
  })
}
