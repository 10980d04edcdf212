// protocols/est/auth.ts decideAuth: the label's auth mode applied to what the client presented (RFC 7030 §3.2.3,
// §3.3, §4.2.2), as a table: who is the requester, or which status refuses the request.
import { describe, expect, it } from 'vitest'
import { decideAuth, type BasicCheck, type CertificateCheck } from '../../../../protocols/est/auth.js'
import { EstError } from '../../../../protocols/est/status.js'
import type { CertificateRecord } from '../../../../src/store/index.js'

const record = { id: '7', serial: 'abc' } as CertificateRecord
const ours: CertificateCheck = { state: 'accepted', serial: 'abc', subject: 'CN=dev', record }
const external: CertificateCheck = { state: 'accepted', serial: 'def', subject: 'CN=idevid', record: undefined }
const revoked: CertificateCheck = { state: 'rejected', reason: 'certificate abc is revoked' }
const noCert: CertificateCheck = { state: 'absent' }
const alice: BasicCheck = { state: 'accepted', user: 'alice' }
const wrong: BasicCheck = { state: 'bad', user: 'alice' }
const noBasic: BasicCheck = { state: 'absent' }

type Mode = 'either' | 'cert' | 'basic' | 'both'
const decide = (mode: Mode, op: 'enroll' | 'reenroll', cert: CertificateCheck, basic: BasicCheck) =>
  decideAuth({ name: 'default', config: { auth: mode } }, op, cert, basic)

describe('decideAuth (RFC 7030 §3.2.3, §3.3.2)', () => {
  it.each([
    ['ok/either-basic', 'either', 'enroll', noCert, alice, 'basic:alice'],
    ['ok/either-our-certificate', 'either', 'enroll', ours, noBasic, 'cert:CN=dev#abc'],
    ['ok/either-external-certificate', 'either', 'enroll', external, noBasic, 'cert:CN=idevid#def'],
    ['ok/either-both-presented-basic-names-the-requester', 'either', 'enroll', ours, alice, 'basic:alice'],
    ['ok/either-revoked-certificate-but-good-basic', 'either', 'enroll', revoked, alice, 'basic:alice'],
    ['ok/cert-ignores-basic', 'cert', 'enroll', ours, wrong, 'cert:CN=dev#abc'],
    ['ok/basic', 'basic', 'enroll', noCert, alice, 'basic:alice'],
    ['ok/both', 'both', 'enroll', ours, alice, 'basic:alice'],
    ['ok/reenroll-names-the-certificate', 'either', 'reenroll', ours, alice, 'cert:CN=dev#abc'],
    ['ok/reenroll-on-basic-label-needs-both', 'basic', 'reenroll', ours, alice, 'cert:CN=dev#abc'],
  ] as const)('%s', (_name, mode, op, cert, basic, requester) => {
    const client = decide(mode, op, cert, basic)
    expect(client.requester).toBe(requester)
    if (cert.state === 'accepted') expect(client.certificate?.serial).toBe(cert.serial)
  })

  it.each([
    ['fail/either-nothing', 'either', 'enroll', noCert, noBasic, 401, /authentication is required/],
    ['fail/either-wrong-password', 'either', 'enroll', ours, wrong, 401, /wrong/],
    ['fail/either-revoked-certificate-alone', 'either', 'enroll', revoked, noBasic, 401, /revoked; or authenticate with HTTP Basic/],
    ['fail/cert-without-certificate', 'cert', 'enroll', noCert, alice, 403, /certificate is required/],
    ['fail/cert-revoked', 'cert', 'enroll', revoked, noBasic, 403, /revoked/],
    ['fail/basic-without-credentials', 'basic', 'enroll', ours, noBasic, 401, /Basic credentials are required/],
    ['fail/both-without-certificate', 'both', 'enroll', noCert, alice, 403, /certificate is required/],
    ['fail/both-without-basic', 'both', 'enroll', ours, noBasic, 401, /Basic credentials are required/],
    ['fail/reenroll-without-certificate', 'either', 'reenroll', noCert, alice, 403, /RFC 7030 §4.2.2/],
    ['fail/reenroll-external-certificate', 'either', 'reenroll', external, noBasic, 403, /issued elsewhere/],
    ['fail/reenroll-revoked-certificate', 'either', 'reenroll', revoked, alice, 403, /revoked/],
    ['fail/reenroll-on-basic-label-without-basic', 'basic', 'reenroll', ours, noBasic, 401, /Basic/],
  ] as const)('%s', (_name, mode, op, cert, basic, status, message) => {
    let error: unknown
    try {
      decide(mode, op, cert, basic)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(EstError)
    expect((error as EstError).status).toBe(status)
    expect((error as EstError).detail).toMatch(message)
    if (status === 401) expect((error as EstError).headers['WWW-Authenticate']).toBe('Basic realm="EST default", charset="UTF-8"')
  })
})
