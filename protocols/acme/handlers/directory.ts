// RFC 8555 §7.1.1 directory, with meta (termsOfService, website, caaIdentities, externalAccountRequired,
// profiles per draft-aaron-acme-profiles) and RFC 9773 renewalInfo.
import type { AcmeContext, AcmeHandler } from '../context.js'

export const directory = (ctx: AcmeContext): AcmeHandler => async (c) => {
  const { links } = ctx
  const acme = ctx.config.acme
  const profiles = Object.fromEntries(ctx.issuance.exposedProfiles().map((p) => [p.name, p.description || p.name]))
  return c.json({
    newNonce: links.newNonce,
    newAccount: links.newAccount,
    newOrder: links.newOrder,
    newAuthz: links.newAuthz,
    revokeCert: links.revokeCert,
    keyChange: links.keyChange,
    renewalInfo: links.renewalInfo,
    meta: {
      ...(acme.termsOfService ? { termsOfService: acme.termsOfService } : {}),
      ...(acme.website ? { website: acme.website } : {}),
      caaIdentities: acme.caaIdentities,
      externalAccountRequired: acme.externalAccountRequired,
      profiles,
    },
  })
}
