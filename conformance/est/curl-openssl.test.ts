// EST (RFC 7030, RFC 8951) with curl and openssl 3.0, written as a device integrator would: cacerts → PEM,
// simpleenroll with HTTP Basic, simplereenroll with the issued certificate as TLS client certificate,
// serverkeygen (multipart split with awk), csrattrs; every certificate checked with `openssl verify` against
// the cacerts output. ENROLL_CAPTURE_FIXTURES=1 writes the wire messages to fixtures/est.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startEnroll } from '../helpers/server.js'
import { keepFile, must, sh } from './common.js'

const USER = 'device-01'
const PASSWORD = 'TEST-ONLY-est-password'

const config = `
profiles:
  default:
    allow: { dns: ['**.example.test'] }
  devices:
    allow: { commonName: ['device-*'] }
    keys: { rsaMinBits: 0, ecdsaCurves: [P-256], ed25519: false }
    extKeyUsage: [clientAuth]
est:
  labels:
    default: {}
    devices: { profile: devices, channelBinding: required }
`

t.test('EST with curl and openssl', async (t) => {
  const enroll = await startEnroll({ configText: config, env: { ENROLL_EST_BASIC: `${USER}:${PASSWORD}` } })
  const work = mkdtempSync(join(tmpdir(), 'enroll-est-curl-'))
  t.teardown(async () => {
    await enroll.stop()
    rmSync(work, { recursive: true, force: true })
  })
  const env = { EST: `${enroll.httpsUrl}/.well-known/est`, CA: enroll.caBundle, USERPASS: `${USER}:${PASSWORD}` }
  const step = (script: string) => must(script, work, env)
  const verify = (pem: string) => step(`openssl verify -CAfile cacerts.pem ${pem}`)

  t.test('ok/cacerts-to-pem', async (t) => {
    const headers = await step(`
      curl -sS --fail --cacert "$CA" -D - -o cacerts.b64 "$EST/cacerts"
      openssl base64 -d -in cacerts.b64 -out cacerts.p7b
      openssl pkcs7 -inform DER -in cacerts.p7b -print_certs -out cacerts.pem`)
    t.match(headers, /\r\ncontent-type: application\/pkcs7-mime; smime-type=certs-only\r\n/i)
    t.match(headers, /\r\ncontent-transfer-encoding: base64\r\n/i)
    const lines = readFileSync(join(work, 'cacerts.b64'), 'latin1').split('\r\n')
    t.ok(lines.slice(0, -2).every((l) => l.length === 76), 'base64 lines of 76 characters, CRLF')
    const pemBlocks = (file: string) => readFileSync(file, 'latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)
    t.same(pemBlocks(join(work, 'cacerts.pem')), pemBlocks(enroll.caBundle), 'cacerts holds the CA bundle, issuing CA first')
    keepFile(join(work, 'cacerts.b64'), 'enroll-cacerts-response.b64')
  })

  t.test('ok/simpleenroll-with-basic', async (t) => {
    await step(`
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device.key \
        -subj /CN=device.example.test -addext subjectAltName=DNS:device.example.test -outform DER -out device.csr.der
      openssl base64 -in device.csr.der -out device.csr.b64
      curl -sS --fail --cacert "$CA" -u "$USERPASS" -H 'Content-Type: application/pkcs10' \
        --data-binary @device.csr.b64 -o device.p7.b64 "$EST/simpleenroll"
      openssl base64 -d -in device.p7.b64 | openssl pkcs7 -inform DER -print_certs -out device.pem`)
    t.match(await verify('device.pem'), /device.pem: OK/)
    t.match(await step('openssl x509 -in device.pem -noout -subject -ext subjectAltName'), /CN = device.example.test[\s\S]*DNS:device.example.test/)
    keepFile(join(work, 'device.csr.b64'), 'curl-simpleenroll-request.b64')
    keepFile(join(work, 'device.p7.b64'), 'enroll-simpleenroll-response.b64')
  })

  t.test('ok/simplereenroll-with-the-issued-certificate', async (t) => {
    await step(`
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout renewed.key \
        -subj /CN=device.example.test -addext subjectAltName=DNS:device.example.test -out renewed.csr.pem
      curl -sS --fail --cacert "$CA" --cert device.pem --key device.key -H 'Content-Type: application/pkcs10' \
        --data-binary @renewed.csr.pem -o renewed.p7.b64 "$EST/simplereenroll"
      openssl base64 -d -in renewed.p7.b64 | openssl pkcs7 -inform DER -print_certs -out renewed.pem`)
    t.match(await verify('renewed.pem'), /renewed.pem: OK/)
    const serial = (f: string) => step(`openssl x509 -in ${f} -noout -serial`)
    t.not(await serial('renewed.pem'), await serial('device.pem'), 'a new certificate')
    t.equal(await step('openssl x509 -in renewed.pem -noout -pubkey'), await step('openssl pkey -in renewed.key -pubout'), 'for the new key')
    keepFile(join(work, 'renewed.csr.pem'), 'curl-simplereenroll-request.pem')
  })

  t.test('ok/serverkeygen', async (t) => {
    const headers = await step(`
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout throwaway.key \
        -subj /CN=keygen.example.test -addext subjectAltName=DNS:keygen.example.test -outform DER -out keygen.csr.der
      openssl base64 -in keygen.csr.der | curl -sS --fail --cacert "$CA" -u "$USERPASS" \
        -H 'Content-Type: application/pkcs10' --data-binary @- -D - -o keygen.multipart "$EST/serverkeygen"`)
    const boundary = /content-type: multipart\/mixed; boundary=(\S+)/i.exec(headers)?.[1]
    t.ok(boundary, 'multipart/mixed with a boundary')
    await must(
      `awk -v b="--$BOUNDARY" '
         index($0, b) == 1 { part++; body = 0; next }
         body == 0 && /^\\r?$/ { body = 1; next }
         body == 1 { sub(/\\r$/, ""); print > ("part" part ".b64") }' keygen.multipart
       grep -qi '^Content-Type: application/pkcs8' keygen.multipart
       openssl base64 -d -in part1.b64 | openssl pkey -inform DER -out keygen.key
       openssl base64 -d -in part2.b64 | openssl pkcs7 -inform DER -print_certs -out keygen.pem`,
      work,
      { ...env, BOUNDARY: boundary! },
    )
    t.match(await verify('keygen.pem'), /keygen.pem: OK/)
    t.equal(await step('openssl x509 -in keygen.pem -noout -pubkey'), await step('openssl pkey -in keygen.key -pubout'), 'certificate is for the returned key')
    t.not(await step('openssl pkey -in keygen.key -pubout'), await step('openssl pkey -in throwaway.key -pubout'), 'not the CSR key')
    keepFile(join(work, 'keygen.multipart'), 'enroll-serverkeygen-response.multipart')
  })

  t.test('ok/csrattrs', async (t) => {
    t.equal(await step(`curl -sS --cacert "$CA" -o /dev/null -w '%{http_code}' "$EST/csrattrs"`), '204', 'default: nothing required')
    const asn1 = await step(`curl -sS --fail --cacert "$CA" "$EST/devices/csrattrs" | openssl base64 -d | openssl asn1parse -inform DER`)
    t.match(asn1, /challengePassword/)
    t.match(asn1, /id-ecPublicKey[\s\S]*prime256v1/)
  })

  t.test('fail/simpleenroll-without-credentials-is-401', async (t) => {
    const out = await step(`openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout x.key -subj /CN=x.example.test -out x.csr
      curl -sS --cacert "$CA" -H 'Content-Type: application/pkcs10' --data-binary @x.csr -D - -o /dev/null "$EST/simpleenroll"`)
    t.match(out, /^HTTP\/1.1 401/)
    t.match(out, /www-authenticate: Basic realm="EST default"/i)
  })

  t.test('fail/reenroll-with-another-subject-is-403', async (t) => {
    const r = await sh(`openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout y.key -subj /CN=other.example.test -out y.csr
      curl -sS --cacert "$CA" --cert renewed.pem --key renewed.key -H 'Content-Type: application/pkcs10' \
        --data-binary @y.csr -w '\\n%{http_code}' "$EST/simplereenroll"`, work, env)
    t.match(r.stdout, /subject[\s\S]*\n403$/)
  })
})
