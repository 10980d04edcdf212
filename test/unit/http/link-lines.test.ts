// One Link header line per relation (RFC 8288 §3 allows both forms; acme.sh and uacme read line by line).
import { describe, expect, it } from 'vitest'
import { splitLinks } from '../../../src/http/link-lines.js'

describe('splitLinks', () => {
  it('ok/joined-links-split-at-link-values', () => {
    expect(splitLinks('<https://a.test/x>;rel="up", <https://a.test/dir>;rel="index"')).toEqual([
      '<https://a.test/x>;rel="up"',
      '<https://a.test/dir>;rel="index"',
    ])
  })
  it('ok/comma-inside-a-uri-is-kept', () => {
    expect(splitLinks('<https://a.test/x,y>;rel="up"')).toEqual(['<https://a.test/x,y>;rel="up"'])
  })
})
