// The one entry to @peculiar/x509: loads its reflect polyfill first and installs Node's WebCrypto.
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Crypto)

export { x509 }
