// src/policy/evaluate.ts: request + profile → what may be signed, or IssuanceError('policyDenied').
import { beforeAll, describe, expect, it } from 'vitest'
import { profileSchema, type ProfileConfig } from '../../../src/config/schema.js'
import { IssuanceError } from '../../../src/errors.js'
import { parseCsr, type KeyInfo, type ParsedCsr } from '../../../src/pki/csr.js'
import { x509 } from '../../../src/pki/x509.js'
import {
  BACKDATE_MS,
  compileProfile,
  decideValidity,
  evaluate,
  requireAllowedKey,
  type CompiledProfile,
} from '../../../src/policy/evaluate.js'
import { makeCsr, type MakeCsrOptions, type TestKeyType } from '../../helpers/csr.js'

const DAY = 24 * 3600 * 1000
const now = new Date('2030-06-01T12:00:00.000Z')
const anyName = { dns: ['*'], ip: ['0.0.0.0/0', '::/0'] }

const profile = (cfg: Record<string, unknown> = {}): CompiledProfile =>
  compileProfile('test', profileSchema.parse({ allow: anyName, ...cfg }))
const csr = async (o: MakeCsrOptions): Promise<ParsedCsr> => parseCsr((await makeCsr(o)).der)

/** The IssuanceError thrown by `run`; fails when none is thrown. */
function denial(run: () => unknown): IssuanceError {
  try {
    run()
  } catch (e) {
    expect(e).toBeInstanceOf(IssuanceError)
    return e as IssuanceError
  }
  throw new Error('expected a policy denial')
}

describe('evaluate key checks', () => {
  const csrs = new Map<TestKeyType, ParsedCsr>()
  beforeAll(async () => {
    for (const key of [
      'rsa-1024',
      'rsa-2048',
      'ecdsa-p256',
      'ecdsa-p384',
      'ecdsa-p521',
      'ed25519',
    ] as const) {
      csrs.set(key, await csr({ key, dns: ['www.example.com'] }))
    }
  })

  it.each([
    ['ok/rsa-2048', 'rsa-2048'],
    ['ok/ecdsa-p256', 'ecdsa-p256'],
    ['ok/ecdsa-p384', 'ecdsa-p384'],
    ['ok/ed25519-by-default', 'ed25519'],
  ] as const)('%s', (_name, key) => {
    expect(evaluate({ csr: csrs.get(key)! }, profile(), now).sans).toEqual([
      { type: 'dns', value: 'www.example.com' },
    ])
  })

  it.each([
    [
      'fail/rsa-1024-below-minimum',
      'rsa-1024',
      {},
      'RSA key of 1024 bits is below the minimum of 2048',
    ],
    [
      'fail/ecdsa-p521-not-allowed-by-default',
      'ecdsa-p521',
      {},
      'ECDSA curve P-521 is not allowed by this profile',
    ],
    [
      'fail/ed25519-switched-off',
      'ed25519',
      { keys: { ed25519: false } },
      'Ed25519 keys are not allowed by this profile',
    ],
    [
      'fail/rsa-switched-off',
      'rsa-2048',
      { keys: { rsaMinBits: 0 } },
      'RSA keys are not allowed by this profile',
    ],
    [
      'fail/rsa-2048-below-raised-minimum',
      'rsa-2048',
      { keys: { rsaMinBits: 3072 } },
      'RSA key of 2048 bits is below the minimum of 3072',
    ],
    [
      'fail/ecdsa-p256-not-listed',
      'ecdsa-p256',
      { keys: { ecdsaCurves: ['P-384'] } },
      'ECDSA curve P-256 is not allowed by this profile',
    ],
  ] as const)('%s', (_name, key, cfg, detail) => {
    const e = denial(() => evaluate({ csr: csrs.get(key)! }, profile(cfg), now))
    expect(e.kind).toBe('policyDenied')
    expect(e.detail).toBe(detail)
  })

  it('ok/ecdsa-p521-when-listed', () => {
    const p = profile({ keys: { ecdsaCurves: ['P-256', 'P-521'] } })
    expect(evaluate({ csr: csrs.get('ecdsa-p521')! }, p, now).sans).toHaveLength(1)
  })

  it.each([
    [
      'fail/rsa-above-maximum',
      { kind: 'rsa', bits: 16384 },
      'RSA key of 16384 bits is above the maximum of 8192',
    ],
    [
      'fail/unsupported-algorithm',
      { kind: 'unsupported', oid: '1.2.840.10040.4.1' },
      'key algorithm 1.2.840.10040.4.1 is not allowed',
    ],
  ] as const)('%s', (_name, key, detail) => {
    const keys = profileSchema.parse({}).keys
    expect(denial(() => requireAllowedKey(key as KeyInfo, keys)).detail).toBe(detail)
  })
})

describe('evaluate identifiers and common name', () => {
  it('ok/sans-normalized-and-deduplicated', async () => {
    const req = await csr({
      dns: ['WWW.Example.com', 'www.example.com', 'api.example.com'],
      ip: ['192.0.2.1'],
    })
    expect(evaluate({ csr: req }, profile(), now).sans).toEqual([
      { type: 'dns', value: 'www.example.com' },
      { type: 'dns', value: 'api.example.com' },
      { type: 'ip', value: '192.0.2.1' },
    ])
  })

  it('ok/cn-added-to-sans-when-no-cn-patterns', async () => {
    const d = evaluate(
      { csr: await csr({ subject: 'CN=Host.Example.com', dns: ['api.example.com'] }) },
      profile(),
      now,
    )
    expect(d.sans).toEqual([
      { type: 'dns', value: 'api.example.com' },
      { type: 'dns', value: 'host.example.com' },
    ])
    expect(d.subject).toBe('CN=Host.Example.com')
  })

  it('ok/cn-only-becomes-the-san', async () => {
    const d = evaluate({ csr: await csr({ subject: 'CN=www.example.com' }) }, profile(), now)
    expect(d.sans).toEqual([{ type: 'dns', value: 'www.example.com' }])
  })

  it('ok/ip-cn-becomes-ip-san', async () => {
    const d = evaluate({ csr: await csr({ subject: 'CN=192.0.2.10' }) }, profile(), now)
    expect(d.sans).toEqual([{ type: 'ip', value: '192.0.2.10' }])
  })

  it('ok/cn-already-a-san-not-repeated', async () => {
    const d = evaluate(
      { csr: await csr({ subject: 'CN=WWW.example.com', dns: ['www.example.com'] }) },
      profile(),
      now,
    )
    expect(d.sans).toEqual([{ type: 'dns', value: 'www.example.com' }])
  })

  it('ok/cn-allowed-by-cn-pattern-stays-out-of-sans', async () => {
    const p = profile({ allow: { dns: ['*.example.com'], commonName: ['Device *'] } })
    const d = evaluate(
      { csr: await csr({ subject: 'CN=Device 42', dns: ['d42.example.com'] }) },
      p,
      now,
    )
    expect(d.sans).toEqual([{ type: 'dns', value: 'd42.example.com' }])
    expect(d.subject).toBe('CN=Device 42')
  })

  it('ok/validated-identifiers-win-over-csr-sans', async () => {
    const req = await csr({ dns: ['ignored.example.com'] })
    const d = evaluate(
      { csr: req, identifiers: [{ type: 'dns', value: 'validated.example.com' }] },
      profile(),
      now,
    )
    expect(d.sans).toEqual([{ type: 'dns', value: 'validated.example.com' }])
  })

  it('fail/cn-outside-validated-identifiers (the protocol validated them: the CN may not add one)', async () => {
    const req = await csr({ subject: 'CN=other.example.com', dns: ['validated.example.com'] })
    const e = denial(() =>
      evaluate({ csr: req, identifiers: [{ type: 'dns', value: 'validated.example.com' }] }, profile(), now),
    )
    expect(e.detail).toBe('common name "other.example.com" is not one of the validated identifiers')
  })

  it('ok/cn-among-validated-identifiers', async () => {
    const req = await csr({ subject: 'CN=validated.example.com', dns: ['validated.example.com'] })
    const d = evaluate({ csr: req, identifiers: [{ type: 'dns', value: 'validated.example.com' }] }, profile(), now)
    expect(d.subject).toBe('CN=validated.example.com')
  })

  it.each([
    [
      'fail/san-not-allowed',
      { allow: { dns: ['*.example.com'] } },
      { dns: ['www.example.org'] },
      'dns identifier "www.example.org" is not allowed by this profile',
    ],
    [
      'fail/ip-outside-cidr',
      { allow: { ip: ['10.0.0.0/8'] } },
      { ip: ['192.0.2.1'] },
      'ip identifier "192.0.2.1" is not allowed by this profile',
    ],
    [
      'fail/email-not-allowed',
      {},
      { email: ['a@example.com'] },
      'email identifier "a@example.com" is not allowed by this profile',
    ],
    [
      'fail/uri-not-allowed',
      {},
      { uri: ['spiffe://example.org/x'] },
      'uri identifier "spiffe://example.org/x" is not allowed by this profile',
    ],
    [
      'fail/cn-not-allowed',
      { allow: { dns: ['*.example.com'] } },
      { subject: 'CN=www.example.org', dns: ['a.example.com'] },
      'common name "www.example.org" is not allowed by this profile',
    ],
    [
      'fail/cn-not-a-host-name',
      {},
      { subject: 'CN=My Laptop' },
      '"my laptop" is not a valid DNS name',
    ],
    [
      'fail/cn-outside-cn-patterns',
      { allow: { dns: ['*'], commonName: ['Device *'] } },
      { subject: 'CN=Printer 1', dns: ['p1.example.com'] },
      'common name "Printer 1" is not allowed by this profile',
    ],
    [
      'fail/san-malformed-dns',
      {},
      { dns: ['bad_name.example.com'] },
      '"bad_name.example.com" is not a valid DNS name',
    ],
    [
      'fail/no-identifier',
      {},
      { subject: 'O=Example' },
      'the request names no identifier (no CN, no SAN)',
    ],
  ] as const)('%s', async (_name, cfg, request, detail) => {
    const p = profile(cfg as Record<string, unknown>)
    const req = await csr(request as MakeCsrOptions)
    const e = denial(() => evaluate({ csr: req }, p, now))
    expect(e.kind).toBe('policyDenied')
    expect(e.detail).toBe(detail)
  })
})

describe('evaluate subject', () => {
  it('ok/cn-mode-keeps-only-the-cn', async () => {
    const d = evaluate(
      { csr: await csr({ subject: 'CN=www.example.com, O=Example, C=DE' }) },
      profile(),
      now,
    )
    expect(d.subject).toBe('CN=www.example.com')
    expect(new x509.Name(d.subjectDer).toString()).toBe('CN=www.example.com')
  })

  it('ok/csr-mode-keeps-the-whole-subject', async () => {
    const req = await csr({ subject: 'CN=www.example.com, O=Example, C=DE' })
    const d = evaluate({ csr: req }, profile({ subject: 'csr' }), now)
    expect(d.subject).toBe('CN=www.example.com, O=Example, C=DE')
    expect(Buffer.from(d.subjectDer).equals(Buffer.from(req.subjectDer))).toBe(true)
  })

  it('ok/no-cn-empty-subject', async () => {
    const d = evaluate({ csr: await csr({ dns: ['www.example.com'] }) }, profile(), now)
    expect(d.subject).toBe('')
    expect(new x509.Name(d.subjectDer).toJSON()).toEqual([])
  })
})

describe('decideValidity', () => {
  const cfg = (o: Partial<ProfileConfig> = {}) =>
    profileSchema.parse({ validityDays: 90, maxValidityDays: 397, ...o })

  it('ok/defaults-backdated-one-minute', () => {
    const v = decideValidity(cfg(), now)
    expect(BACKDATE_MS).toBe(60_000)
    expect(v.notBefore.getTime()).toBe(now.getTime() - 60_000)
    expect(v.notAfter.getTime()).toBe(v.notBefore.getTime() + 90 * DAY)
  })

  it('ok/requested-not-before-clamped-to-one-minute-back', () => {
    const v = decideValidity(cfg(), now, new Date(now.getTime() - 3600_000))
    expect(v.notBefore.getTime()).toBe(now.getTime() - 60_000)
  })

  it('ok/requested-future-not-before-kept', () => {
    const later = new Date(now.getTime() + DAY)
    const v = decideValidity(cfg(), now, later)
    expect(v.notBefore).toEqual(later)
    expect(v.notAfter.getTime()).toBe(later.getTime() + 90 * DAY)
  })

  it('ok/requested-not-after-kept-when-shorter', () => {
    const na = new Date(now.getTime() + 7 * DAY)
    expect(decideValidity(cfg(), now, undefined, na).notAfter).toEqual(na)
  })

  it('ok/requested-not-after-capped-at-max', () => {
    const v = decideValidity(
      cfg({ maxValidityDays: 30, validityDays: 10 }),
      now,
      undefined,
      new Date(now.getTime() + 365 * DAY),
    )
    expect(v.notAfter.getTime()).toBe(v.notBefore.getTime() + 30 * DAY)
  })

  it('fail/not-after-before-not-before', () => {
    const e = denial(() => decideValidity(cfg(), now, undefined, new Date(now.getTime() - 120_000)))
    expect(e.kind).toBe('policyDenied')
    expect(e.detail).toBe('notAfter must be later than notBefore')
  })

  it('ok/evaluate-uses-profile-validity', async () => {
    const d = evaluate(
      { csr: await csr({ dns: ['a.example.com'] }) },
      profile({ validityDays: 7 }),
      now,
    )
    expect(d.notBefore.getTime()).toBe(now.getTime() - 60_000)
    expect(d.notAfter.getTime() - d.notBefore.getTime()).toBe(7 * DAY)
  })
})

describe('evaluate key usage and extended key usage', () => {
  let rsa: ParsedCsr
  let ec: ParsedCsr
  let ed: ParsedCsr
  beforeAll(async () => {
    rsa = await csr({ key: 'rsa-2048', dns: ['a.example.com'] })
    ec = await csr({ key: 'ecdsa-p256', dns: ['a.example.com'] })
    ed = await csr({ key: 'ed25519', dns: ['a.example.com'] })
  })

  it('ok/rsa-keeps-key-encipherment', () => {
    expect(evaluate({ csr: rsa }, profile(), now).keyUsage).toEqual([
      'digitalSignature',
      'keyEncipherment',
    ])
  })

  it('ok/ecdsa-drops-key-encipherment', () => {
    expect(evaluate({ csr: ec }, profile(), now).keyUsage).toEqual(['digitalSignature'])
  })

  it('ok/ed25519-drops-key-and-data-encipherment', () => {
    const p = profile({
      keyUsage: ['digitalSignature', 'keyEncipherment', 'dataEncipherment', 'nonRepudiation'],
    })
    expect(evaluate({ csr: ed }, p, now).keyUsage).toEqual(['digitalSignature', 'nonRepudiation'])
  })

  it('ok/eku-names-to-oids', () => {
    expect(evaluate({ csr: ec }, profile(), now).extKeyUsage).toEqual([
      '1.3.6.1.5.5.7.3.1',
      '1.3.6.1.5.5.7.3.2',
    ])
  })

  it('ok/eku-every-name-and-dotted-oid', () => {
    const p = profile({
      extKeyUsage: [
        'codeSigning',
        'emailProtection',
        'timeStamping',
        'OCSPSigning',
        'ipsecIKE',
        '1.2.3.4.5',
      ],
    })
    expect(evaluate({ csr: ec }, p, now).extKeyUsage).toEqual([
      '1.3.6.1.5.5.7.3.3',
      '1.3.6.1.5.5.7.3.4',
      '1.3.6.1.5.5.7.3.8',
      '1.3.6.1.5.5.7.3.9',
      '1.3.6.1.5.5.7.3.17',
      '1.2.3.4.5',
    ])
  })
})
