// src/issuance/renewal.ts requireRenewable (RFC 7030 §4.2.2): renewing keeps the identity of a valid, not yet
// renewed certificate of the same profile.
import { describe, expect, it } from 'vitest'
import { IssuanceError } from '../../../src/errors.js'
import { requireRenewable } from '../../../src/issuance/renewal.js'
import type { Decision } from '../../../src/policy/evaluate.js'
import type { CertificateRecord } from '../../../src/store/index.js'

const old = (o: Partial<CertificateRecord> = {}) =>
  ({
    serial: '0a',
    status: 'valid',
    profile: 'default',
    subject: 'CN=dev.example.com',
    sans: [{ type: 'dns', value: 'dev.example.com' }, { type: 'ip', value: '192.0.2.7' }],
    supersededBy: null,
    ...o,
  }) as CertificateRecord
const decision = (o: Partial<Decision> = {}) =>
  ({ subject: 'CN=dev.example.com', sans: [{ type: 'ip', value: '192.0.2.7' }, { type: 'dns', value: 'DEV.example.com' }], ...o }) as Decision

describe('requireRenewable', () => {
  it('ok/same-subject-and-san-set-in-any-order-and-case', () => {
    expect(() => requireRenewable(old(), 'default', decision())).not.toThrow()
  })

  it.each([
    ['fail/revoked', old({ status: 'revoked' }), 'default', decision(), /is revoked/],
    ['fail/already-renewed', old({ supersededBy: '9' }), 'default', decision(), /already renewed \(by certificate 9\)/],
    ['fail/other-profile', old(), 'devices', decision(), /profile "default", not "devices"/],
    ['fail/other-subject', old(), 'default', decision({ subject: 'CN=other.example.com' }), /subject/],
    ['fail/san-added', old(), 'default', decision({ sans: [...decision().sans, { type: 'dns', value: 'x.example.com' }] }), /subjectAltName/],
    ['fail/san-dropped', old(), 'default', decision({ sans: [{ type: 'ip', value: '192.0.2.7' }] }), /subjectAltName/],
  ] as const)('%s', (_name, record, profile, d, message) => {
    let e: unknown
    try {
      requireRenewable(record, profile, d)
    } catch (err) {
      e = err
    }
    expect(e).toBeInstanceOf(IssuanceError)
    expect((e as IssuanceError).kind).toBe('policyDenied')
    expect((e as IssuanceError).detail).toMatch(message)
  })
})
