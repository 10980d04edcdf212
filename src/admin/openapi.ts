// OpenAPI 3.1 description of the admin API (served at /api/v1/openapi.json).

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
})
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } })
const page = (item: string) => ({
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: { items: { type: 'array', items: ref(item) }, nextCursor: { type: ['string', 'null'] } },
})
const limitParam = { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }
const cursorParam = {
  name: 'cursor',
  in: 'query',
  description: 'nextCursor of the previous page',
  schema: { type: 'string' },
}
const refParam = {
  name: 'ref',
  in: 'path',
  required: true,
  description: 'Inventory id (decimal) or serial number (hex, colons allowed)',
  schema: { type: 'string' },
}
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } }
const common = {
  '400': problemResponse('Malformed request, CSR or unknown profile'),
  '401': problemResponse('Missing or invalid API key'),
}

export function openApiDocument(publicUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'enroll admin API',
      version: '1',
      description: 'Inventory, approval, revocation and audit of the certificate enrollment server.',
    },
    servers: [{ url: `${publicUrl}/api/v1` }],
    security: [{ apiKey: [] }],
    paths: {
      '/certificates': {
        get: {
          summary: 'List certificates, newest first',
          parameters: [
            {
              name: 'status',
              in: 'query',
              schema: { enum: ['pending', 'reserved', 'valid', 'expired', 'revoked', 'failed', 'rejected'] },
            },
            { name: 'expiring-before', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'san', in: 'query', description: 'substring of any SAN value', schema: { type: 'string' } },
            { name: 'profile', in: 'query', schema: { type: 'string' } },
            limitParam,
            cursorParam,
          ],
          responses: { '200': json(page('CertificateSummary'), 'One page of certificates'), ...common },
        },
        post: {
          summary: 'Issue a certificate from a CSR through the issuance service',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['csr'],
                  properties: {
                    csr: { type: 'string', description: 'PKCS#10 request, PEM or base64 DER' },
                    profile: { type: 'string', default: 'default' },
                    notAfter: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
          responses: {
            '201': json(ref('Certificate'), 'Issued'),
            '202': json(ref('CertificateSummary'), 'Held for approval'),
            ...common,
            '403': problemResponse('Denied by the profile policy'),
            '413': problemResponse('Body too large'),
            '503': problemResponse('CA backend unavailable'),
          },
        },
      },
      '/certificates/{ref}': {
        get: {
          summary: 'One certificate with PEM and parsed fields',
          parameters: [refParam],
          responses: { '200': json(ref('Certificate'), 'The certificate'), ...common, '404': problemResponse('Not found') },
        },
      },
      '/certificates/with-key': {
        post: {
          summary: 'Issue with a server-generated key (escrowed in Vault KV v2 when the profile signs through Vault)',
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    profile: { type: 'string' },
                    commonName: { type: 'string' },
                    dns: { type: 'array', items: { type: 'string' } },
                    ip: { type: 'array', items: { type: 'string' } },
                    email: { type: 'array', items: { type: 'string' } },
                    uri: { type: 'array', items: { type: 'string' } },
                    csr: { type: 'string', description: 'template request instead of the names; its key is not used' },
                    replaces: { type: 'string', description: 'id of the certificate renewed: its escrow record gets a new version' },
                    notAfter: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
          responses: {
            '201': json(ref('Certificate'), 'Issued; `bundle` links to the escrowed key, or `privateKeyPem` holds the only copy'),
            ...common,
            '403': problemResponse('Denied by policy'),
            '503': problemResponse('CA backend unavailable'),
          },
        },
      },
      '/certificates/{ref}/bundle': {
        get: {
          summary: 'The escrowed key bundle (server.crt, server.key, ca-chain.crt) as JSON or ZIP; every read is audited',
          parameters: [refParam, { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'zip'] } }],
          responses: {
            '200': {
              description: 'The bundle',
              content: { 'application/json': { schema: { type: 'object' } }, 'application/zip': { schema: { type: 'string', format: 'binary' } } },
            },
            ...common,
            '404': problemResponse('No escrowed key for this certificate'),
          },
        },
      },
      '/certificates/{ref}/revoke': {
        post: {
          summary: 'Revoke a certificate (RFC 5280 reason)',
          parameters: [refParam],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    reason: {
                      description: 'CRLReason name or code; certificateHold and removeFromCRL are refused',
                      oneOf: [{ type: 'string' }, { type: 'integer' }],
                      default: 'unspecified',
                    },
                    invalidityDate: { type: 'string', format: 'date-time', description: 'RFC 5280 §5.3.2' },
                  },
                },
              },
            },
          },
          responses: {
            '200': json(ref('CertificateSummary'), 'Revoked'),
            ...common,
            '404': problemResponse('Not found'),
            '409': problemResponse('Already revoked, or not issued'),
          },
        },
      },
      '/requests': {
        get: {
          summary: 'Requests awaiting approval',
          parameters: [{ name: 'profile', in: 'query', schema: { type: 'string' } }, limitParam, cursorParam],
          responses: { '200': json(page('CertificateSummary'), 'One page of pending requests'), ...common },
        },
      },
      '/requests/{id}/approve': {
        post: {
          summary: 'Approve a pending request; it is signed at once',
          parameters: [idParam],
          responses: {
            '200': json(ref('Certificate'), 'Issued'),
            ...common,
            '404': problemResponse('Not found'),
            '409': problemResponse('Not pending'),
          },
        },
      },
      '/requests/{id}/reject': {
        post: {
          summary: 'Reject a pending request',
          parameters: [idParam],
          requestBody: {
            content: {
              'application/json': { schema: { type: 'object', properties: { reason: { type: 'string' } } } },
            },
          },
          responses: {
            '200': json(ref('CertificateSummary'), 'Rejected'),
            ...common,
            '404': problemResponse('Not found'),
            '409': problemResponse('Not pending'),
          },
        },
      },
      '/acme/eab': {
        post: {
          summary: 'Create an ACME External Account Binding key (RFC 8555 §7.3.4); the HMAC key is shown once',
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    description: { type: 'string' },
                    domains: { type: 'array', items: { type: 'string' }, description: 'pre-validated DNS patterns (acme.eabPreauthorization)' },
                  },
                },
              },
            },
          },
          responses: {
            '201': json({ type: 'object', properties: { keyId: { type: 'string' }, hmacKey: { type: 'string', description: 'base64url' } } }, 'Created'),
            ...common,
          },
        },
        get: {
          summary: 'EAB keys (never the secret) and the accounts they are bound to',
          responses: { '200': json({ type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } }, 'Keys'), ...common },
        },
      },
      '/acme/eab/{keyId}': {
        delete: {
          summary: 'Withdraw an unbound EAB key',
          parameters: [{ name: 'keyId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '204': { description: 'Deleted' }, ...common, '404': problemResponse('Not found'), '409': problemResponse('Bound to an account') },
        },
      },
      '/acme/renewal-flags/{scope}/{name}': {
        put: {
          summary: 'Flag a CA backend or profile for early renewal: ACME renewalInfo (RFC 9773) windows start now',
          parameters: [
            { name: 'scope', in: 'path', required: true, schema: { type: 'string', enum: ['backend', 'profile'] } },
            { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
          ],
          requestBody: {
            content: { 'application/json': { schema: { type: 'object', properties: { explanationUrl: { type: 'string', format: 'uri' } } } } },
          },
          responses: { '204': { description: 'Flagged' }, ...common },
        },
        delete: {
          summary: 'Remove an early-renewal flag',
          parameters: [
            { name: 'scope', in: 'path', required: true, schema: { type: 'string', enum: ['backend', 'profile'] } },
            { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
          ],
          responses: { '204': { description: 'Removed' }, ...common, '404': problemResponse('Not found') },
        },
      },
      '/scep/challenges': {
        post: {
          summary: 'Mint a one-time SCEP challengePassword (RFC 8894 §2.3) for a label with dynamicChallenges; shown once',
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    label: { type: 'string', default: 'default' },
                    commonName: { type: 'string', description: 'only a CSR with this common name may use it' },
                    ttlSeconds: { type: 'integer', description: 'at most scep.challengeTtlSeconds' },
                  },
                },
              },
            },
          },
          responses: {
            '201': json({ type: 'object', properties: { id: { type: 'string' }, challenge: { type: 'string' }, label: { type: 'string' }, commonName: { type: ['string', 'null'] }, expiresAt: { type: 'string', format: 'date-time' } } }, 'Minted'),
            ...common,
            '404': problemResponse('No such label'),
          },
        },
        get: {
          summary: 'Unused, unexpired SCEP challenges (never the secret)',
          parameters: [{ name: 'label', in: 'query', schema: { type: 'string' } }],
          responses: { '200': json({ type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } }, 'Challenges'), ...common },
        },
      },
      '/scep/challenges/{id}': {
        delete: {
          summary: 'Withdraw an unused SCEP challenge',
          parameters: [idParam],
          responses: { '204': { description: 'Withdrawn' }, ...common, '404': problemResponse('No such unused challenge') },
        },
      },
      '/audit': {
        get: {
          summary: 'Audit events, newest first',
          parameters: [
            { name: 'serial', in: 'query', schema: { type: 'string' } },
            { name: 'action', in: 'query', schema: { type: 'string' } },
            limitParam,
            cursorParam,
          ],
          responses: { '200': json(page('AuditEvent'), 'One page of events'), ...common },
        },
      },
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Admin API key' } },
      schemas: {
        Problem: {
          type: 'object',
          description: 'RFC 9457 problem details',
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
          },
        },
        Identifier: {
          type: 'object',
          required: ['type', 'value'],
          properties: { type: { enum: ['dns', 'ip', 'email', 'uri'] }, value: { type: 'string' } },
        },
        CertificateSummary: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            serial: { type: 'string', description: 'lowercase hex' },
            status: { enum: ['pending', 'reserved', 'valid', 'expired', 'revoked', 'failed', 'rejected'] },
            profile: { type: 'string' },
            backend: { type: 'string' },
            protocol: { type: 'string' },
            requester: { type: 'string' },
            subject: { type: 'string' },
            sans: { type: 'array', items: ref('Identifier') },
            notBefore: { type: ['string', 'null'], format: 'date-time' },
            notAfter: { type: ['string', 'null'], format: 'date-time' },
            fingerprintSha256: { type: ['string', 'null'] },
            createdAt: { type: 'string', format: 'date-time' },
            issuedAt: { type: ['string', 'null'], format: 'date-time' },
            revokedAt: { type: ['string', 'null'], format: 'date-time' },
            revocationReason: { type: ['string', 'integer', 'null'] },
            failure: { type: ['string', 'null'] },
            decidedBy: { type: ['string', 'null'] },
          },
        },
        Certificate: {
          allOf: [
            ref('CertificateSummary'),
            {
              type: 'object',
              properties: {
                pem: { type: ['string', 'null'] },
                chainPem: { type: 'string', description: 'issuer chain (on issue and approve)' },
                parsed: { type: ['object', 'null'] },
              },
            },
          ],
        },
        AuditEvent: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            at: { type: 'string', format: 'date-time' },
            action: { type: 'string' },
            actor: { type: 'string' },
            protocol: { type: ['string', 'null'] },
            certificateId: { type: ['string', 'null'] },
            serial: { type: ['string', 'null'] },
            requestId: { type: ['string', 'null'] },
            detail: { type: 'object' },
          },
        },
      },
    },
  }
}
