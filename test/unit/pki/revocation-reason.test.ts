// src/pki/revocation-reason.ts: RFC 5280 §5.3.1 CRLReason codes.
import { describe, expect, it } from 'vitest'
import {
  parseReason,
  reasonName,
  requestableReasons,
  revocationReasons,
} from '../../../src/pki/revocation-reason.js'

describe('CRLReason (RFC 5280 §5.3.1)', () => {
  it('ok/codes-as-in-the-rfc', () => {
    expect(revocationReasons).toEqual({
      unspecified: 0,
      keyCompromise: 1,
      cACompromise: 2,
      affiliationChanged: 3,
      superseded: 4,
      cessationOfOperation: 5,
      certificateHold: 6,
      removeFromCRL: 8,
      privilegeWithdrawn: 9,
      aACompromise: 10,
    })
  })

  it('ok/requestable-excludes-hold-and-remove', () => {
    expect([...requestableReasons].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 9, 10])
  })

  it.each([
    ['ok/name-of-0', 0, 'unspecified'],
    ['ok/name-of-1', 1, 'keyCompromise'],
    ['ok/name-of-6', 6, 'certificateHold'],
    ['ok/name-of-10', 10, 'aACompromise'],
    ['fail/unused-code-7-has-no-name', 7, undefined],
    ['fail/code-11-has-no-name', 11, undefined],
    ['fail/negative-has-no-name', -1, undefined],
  ])('%s', (_name, code, name) => {
    expect(reasonName(code)).toBe(name)
  })
})

describe('parseReason', () => {
  it.each([
    ['ok/name', 'keyCompromise', 1],
    ['ok/name-superseded', 'superseded', 4],
    ['ok/code', 5, 5],
    ['ok/code-zero', 0, 0],
    ['ok/numeric-string', '9', 9],
    ['ok/hold-parses-refused-later-by-issuance', 'certificateHold', 6],
  ] as const)('%s', (_name, input, code) => {
    expect(parseReason(input)).toBe(code)
  })

  it.each([
    ['fail/unused-code-7', 7],
    ['fail/unused-code-7-string', '7'],
    ['fail/out-of-range', 11],
    ['fail/negative', -1],
    ['fail/fraction', 1.5],
    ['fail/unknown-name', 'stolen'],
    ['fail/wrong-case', 'KeyCompromise'],
    ['fail/empty', ''],
    ['fail/null', null],
    ['fail/object', { reason: 1 }],
    ['fail/prototype-key-toString', 'toString'],
    ['fail/prototype-key-constructor', 'constructor'],
    ['fail/prototype-key-__proto__', '__proto__'],
  ] as const)('%s', (_name, input) => {
    expect(parseReason(input)).toBeUndefined()
  })
})
