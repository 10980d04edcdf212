// ACME state (RFC 8555 §7.1): accounts, orders, authorizations, challenges, nonces, EAB keys, RFC 9773
// replacements, early-renewal flags and rate-limit counters. Every method is one statement or one short
// transaction: no caller holds a transaction across network I/O (the embedded store has one connection).
import { randomBytes } from 'node:crypto'
import type postgres from 'postgres'
import type { Sql } from './database.js'

export type AcmeIdentifierType = 'dns' | 'ip'
export interface AcmeIdentifier {
  type: AcmeIdentifierType
  value: string
}

export type AccountStatus = 'valid' | 'deactivated' | 'revoked'
export type OrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid'
export type AuthzStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked'
export type ChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid'

/** An RFC 7807 problem as stored on an order or challenge (already in wire form). */
export type StoredProblem = Record<string, unknown>

export interface AcmeAccount {
  id: string
  thumbprint: string
  jwk: Record<string, unknown>
  status: AccountStatus
  contact: string[]
  tosAgreed: boolean
  eabKeyId: string | null
  createdAt: Date
}

export interface AcmeChallenge {
  id: string
  authzId: string
  type: string
  token: string
  status: ChallengeStatus
  validated: Date | null
  error: StoredProblem | null
}

export interface AcmeAuthorization {
  id: string
  accountId: string
  identifier: AcmeIdentifier
  wildcard: boolean
  /** `expired` is derived: a pending or valid authorization past `expires`. */
  status: AuthzStatus
  expires: Date
  validatedAt: Date | null
  challenges: AcmeChallenge[]
}

export interface AcmeOrder {
  id: string
  seq: string
  accountId: string
  /** A pending or ready order past `expires` reads as invalid. */
  status: OrderStatus
  identifiers: AcmeIdentifier[]
  authzIds: string[]
  expires: Date
  notBefore: Date | null
  notAfter: Date | null
  profile: string | null
  replaces: string | null
  error: StoredProblem | null
  certificateId: string | null
  certificateSerial: string | null
}

export interface AcmeEabKey {
  id: string
  hmacKey: Uint8Array
  description: string
  domains: string[]
  accountId: string | null
  createdAt: Date
  boundAt: Date | null
}

export interface RenewalFlag {
  scope: 'backend' | 'profile'
  name: string
  explanationUrl: string | null
  createdAt: Date
}

/** A new authorization: one challenge per offered type, each with its own token. */
export interface NewAuthorization {
  identifier: AcmeIdentifier
  wildcard: boolean
  challengeTypes: string[]
  expires: Date
  /** Created valid (pre-authorized by the EAB key's domain patterns). */
  preauthorized?: boolean
}

export interface NewOrder {
  accountId: string
  identifiers: AcmeIdentifier[]
  expires: Date
  notBefore?: Date | undefined
  notAfter?: Date | undefined
  profile?: string | undefined
  /** RFC 9773 certID and the serial it names. */
  replaces?: { certId: string; serial: string } | undefined
  /** Per order identifier, in order: an existing valid authorization id to reuse, or a new one. */
  authorizations: (string | NewAuthorization)[]
}

export type ChallengeOutcome = { status: 'valid' } | { status: 'invalid'; error: StoredProblem }

/** 128 random bits, URL-safe: ids appear in URLs and must not be guessable. */
export const newId = () => randomBytes(16).toString('base64url')
/** RFC 8555 §8.1: tokens carry at least 128 bits of entropy. */
const newToken = () => randomBytes(32).toString('base64url')

interface AccountRow {
  id: string
  key_thumbprint: string
  jwk: Record<string, unknown>
  status: AccountStatus
  contact: string[]
  tos_agreed: boolean
  eab_key_id: string | null
  created_at: Date
}
const accountFromRow = (r: AccountRow): AcmeAccount => ({
  id: r.id,
  thumbprint: r.key_thumbprint,
  jwk: r.jwk,
  status: r.status,
  contact: r.contact,
  tosAgreed: r.tos_agreed,
  eabKeyId: r.eab_key_id,
  createdAt: r.created_at,
})

interface OrderRow {
  id: string
  seq: string
  account_id: string
  status: OrderStatus
  identifiers: AcmeIdentifier[]
  authz_ids: string[] | null
  expires: Date
  not_before: Date | null
  not_after: Date | null
  profile: string | null
  replaces: string | null
  error: StoredProblem | null
  certificate_id: string | null
  certificate_serial: string | null
}
const orderFromRow = (r: OrderRow, now = Date.now()): AcmeOrder => ({
  id: r.id,
  seq: r.seq,
  accountId: r.account_id,
  status: (r.status === 'pending' || r.status === 'ready') && r.expires.getTime() <= now ? 'invalid' : r.status,
  identifiers: r.identifiers,
  authzIds: r.authz_ids ?? [],
  expires: r.expires,
  notBefore: r.not_before,
  notAfter: r.not_after,
  profile: r.profile,
  replaces: r.replaces,
  error: r.error,
  certificateId: r.certificate_id,
  certificateSerial: r.certificate_serial,
})

interface AuthzRow {
  id: string
  account_id: string
  identifier_type: AcmeIdentifierType
  identifier_value: string
  wildcard: boolean
  status: Exclude<AuthzStatus, 'expired'>
  expires: Date
  validated_at: Date | null
  challenges: ChallengeJson[] | null
}
interface ChallengeJson {
  id: string
  authz_id: string
  type: string
  token: string
  status: ChallengeStatus
  validated: string | null
  error: StoredProblem | null
}
const challengeFromJson = (c: ChallengeJson): AcmeChallenge => ({
  id: c.id,
  authzId: c.authz_id,
  type: c.type,
  token: c.token,
  status: c.status,
  validated: c.validated ? new Date(c.validated) : null,
  error: c.error,
})
const authzFromRow = (r: AuthzRow, now = Date.now()): AcmeAuthorization => ({
  id: r.id,
  accountId: r.account_id,
  identifier: { type: r.identifier_type, value: r.identifier_value },
  wildcard: r.wildcard,
  status: (r.status === 'pending' || r.status === 'valid') && r.expires.getTime() <= now ? 'expired' : r.status,
  expires: r.expires,
  validatedAt: r.validated_at,
  challenges: (r.challenges ?? []).map(challengeFromJson),
})

interface EabRow {
  id: string
  hmac_key: Buffer
  description: string
  domains: string[]
  account_id: string | null
  created_at: Date
  bound_at: Date | null
}
const eabFromRow = (r: EabRow): AcmeEabKey => ({
  id: r.id,
  hmacKey: new Uint8Array(r.hmac_key),
  description: r.description,
  domains: r.domains,
  accountId: r.account_id,
  createdAt: r.created_at,
  boundAt: r.bound_at,
})

type Tx = postgres.TransactionSql
const json = (sql: Sql | Tx, v: unknown) => sql.json(v as postgres.JSONValue)
const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505'

export class AcmeStoreConflict extends Error {
  override readonly name = 'AcmeStoreConflict'
  constructor(
    readonly what: 'accountKey' | 'eabKeyBound' | 'eabKeyUnknown' | 'alreadyReplaced',
    readonly existingId?: string,
  ) {
    super(what)
  }
}

export function acmeStore(sql: Sql) {
  const authzSelect = sql`
    select a.id, a.account_id, a.identifier_type, a.identifier_value, a.wildcard, a.status, a.expires, a.validated_at,
      (select json_agg(json_build_object('id', c.id, 'authz_id', c.authz_id, 'type', c.type, 'token', c.token,
                 'status', c.status, 'validated', c.validated, 'error', c.error) order by c.position)
         from acme_challenges c where c.authz_id = a.id) as challenges
    from acme_authorizations a`
  const orderSelect = sql`
    select o.id, o.seq::text, o.account_id, o.status, o.identifiers, o.expires, o.not_before, o.not_after, o.profile,
      o.replaces, o.error, o.certificate_id::text, o.certificate_serial,
      (select array_agg(oa.authz_id order by oa.position) from acme_order_authorizations oa where oa.order_id = o.id)
        as authz_ids
    from acme_orders o`

  /** After a challenge settles: pending orders whose authorizations are all valid become ready; orders with a failed one invalid. */
  const settleOrders = async (tx: Tx, authzId: string, outcome: ChallengeOutcome | { status: 'deactivated' }) => {
    // Two authorizations of one order settling at once must not both see the other still pending (READ
    // COMMITTED): lock the orders first, in id order; the next statement's snapshot sees the other's commit.
    await tx`
      select id from acme_orders
      where id in (select order_id from acme_order_authorizations where authz_id = ${authzId})
        and status in ('pending', 'ready')
      order by id for update`
    if (outcome.status === 'valid') {
      await tx`
        update acme_orders o set status = 'ready', updated_at = now()
        where o.status = 'pending'
          and o.id in (select order_id from acme_order_authorizations where authz_id = ${authzId})
          and not exists (select 1 from acme_order_authorizations oa join acme_authorizations a on a.id = oa.authz_id
                          where oa.order_id = o.id and (a.status <> 'valid' or a.expires <= now()))`
    } else {
      const error = outcome.status === 'invalid' ? outcome.error : null
      await tx`
        update acme_orders set status = 'invalid', error = ${error ? json(tx, error) : null}, updated_at = now()
        where status in ('pending', 'ready')
          and id in (select order_id from acme_order_authorizations where authz_id = ${authzId})`
    }
  }

  async function insertAuthz(tx: Tx, accountId: string, a: NewAuthorization): Promise<string> {
    const id = newId()
    const status = a.preauthorized ? 'valid' : 'pending'
    await tx`
      insert into acme_authorizations (id, account_id, identifier_type, identifier_value, wildcard, status, expires,
                                       validated_at)
      values (${id}, ${accountId}, ${a.identifier.type}, ${a.identifier.value}, ${a.wildcard}, ${status}, ${a.expires},
              ${a.preauthorized ? new Date() : null})`
    if (!a.preauthorized && a.challengeTypes.length) {
      const rows = a.challengeTypes.map((type, position) => ({
        id: newId(),
        authz_id: id,
        position,
        type,
        token: newToken(),
        status: 'pending',
      }))
      await tx`insert into acme_challenges ${tx(rows, 'id', 'authz_id', 'position', 'type', 'token', 'status')}`
    }
    return id
  }

  const store = {
    nonces: {
      /** Stores a batch of nonces in one statement (the nonce source hands them out one by one). */
      async issue(values: string[], lifetimeSeconds: number): Promise<void> {
        await sql`insert into acme_nonces (value, expires_at)
                  select v, now() + make_interval(secs => ${lifetimeSeconds}) from unnest(${values}::text[]) as v`
      },
      /** Single use: true only for the one request that deletes an unexpired nonce. */
      async consume(value: string): Promise<boolean> {
        const rows = await sql`delete from acme_nonces where value = ${value} returning expires_at > now() as fresh`
        return rows[0]?.['fresh'] === true
      },
      async purgeExpired(): Promise<number> {
        const r = await sql`delete from acme_nonces where expires_at <= now()`
        return r.count
      },
    },

    accounts: {
      /**
       * Creates an account; with `eabKeyId`, binds that unbound EAB key to it in the same transaction.
       * Throws AcmeStoreConflict('accountKey') when the key already has an account (a concurrent newAccount).
       */
      async create(a: {
        jwk: Record<string, unknown>
        thumbprint: string
        contact: string[]
        tosAgreed: boolean
        eabKeyId?: string | undefined
      }): Promise<AcmeAccount> {
        const id = newId()
        try {
          return await sql.begin(async (tx) => {
            const rows = await tx<AccountRow[]>`
              insert into acme_accounts (id, key_thumbprint, jwk, status, contact, tos_agreed, eab_key_id)
              values (${id}, ${a.thumbprint}, ${json(tx, a.jwk)}, 'valid', ${json(tx, a.contact)}, ${a.tosAgreed},
                      ${a.eabKeyId ?? null})
              returning *`
            if (a.eabKeyId) {
              const bound = await tx`
                update acme_eab_keys set account_id = ${id}, bound_at = now()
                where id = ${a.eabKeyId} and account_id is null returning id`
              if (!bound.length) throw new AcmeStoreConflict('eabKeyBound')
            }
            return accountFromRow(rows[0]!)
          })
        } catch (e) {
          if (isUniqueViolation(e)) {
            const existing = await store.accounts.byThumbprint(a.thumbprint)
            throw new AcmeStoreConflict('accountKey', existing?.id)
          }
          throw e
        }
      },
      async byId(id: string): Promise<AcmeAccount | undefined> {
        const rows = await sql<AccountRow[]>`select * from acme_accounts where id = ${id}`
        return rows[0] ? accountFromRow(rows[0]) : undefined
      },
      async byThumbprint(thumbprint: string): Promise<AcmeAccount | undefined> {
        const rows = await sql<AccountRow[]>`select * from acme_accounts where key_thumbprint = ${thumbprint}`
        return rows[0] ? accountFromRow(rows[0]) : undefined
      },
      /** Updates contact and/or deactivates; only a valid account changes. */
      async update(id: string, patch: { contact?: string[] | undefined; status?: 'deactivated' }): Promise<AcmeAccount | undefined> {
        const rows = await sql<AccountRow[]>`
          update acme_accounts set
            contact = ${patch.contact ? json(sql, patch.contact) : sql`contact`},
            status = ${patch.status ?? sql`status`},
            updated_at = now()
          where id = ${id} and status = 'valid'
          returning *`
        if (rows[0] && patch.status === 'deactivated') {
          // RFC 8555 §7.3.6: pending operations of a deactivated account end.
          await sql`update acme_authorizations set status = 'deactivated' where account_id = ${id} and status = 'pending'`
          await sql`update acme_orders set status = 'invalid', updated_at = now()
                    where account_id = ${id} and status in ('pending', 'ready')`
        }
        return rows[0] ? accountFromRow(rows[0]) : undefined
      },
      /** RFC 8555 §7.3.5 key rollover; throws AcmeStoreConflict('accountKey', otherId) when the key is in use. */
      async changeKey(id: string, oldThumbprint: string, jwk: Record<string, unknown>, thumbprint: string) {
        try {
          const rows = await sql<AccountRow[]>`
            update acme_accounts set jwk = ${json(sql, jwk)}, key_thumbprint = ${thumbprint}, updated_at = now()
            where id = ${id} and key_thumbprint = ${oldThumbprint} and status = 'valid'
            returning *`
          return rows[0] ? accountFromRow(rows[0]) : undefined
        } catch (e) {
          if (isUniqueViolation(e)) {
            throw new AcmeStoreConflict('accountKey', (await store.accounts.byThumbprint(thumbprint))?.id)
          }
          throw e
        }
      },
    },

    orders: {
      /** Inserts the order, its new authorizations and challenges, and its RFC 9773 claim, in one transaction. */
      async create(o: NewOrder): Promise<AcmeOrder> {
        const id = newId()
        try {
          await sql.begin(async (tx) => {
            const authzIds: string[] = []
            for (const a of o.authorizations) {
              authzIds.push(typeof a === 'string' ? a : await insertAuthz(tx, o.accountId, a))
            }
            const allValid = o.authorizations.every((a) => typeof a === 'string' || a.preauthorized)
            await tx`
              insert into acme_orders (id, account_id, status, identifiers, expires, not_before, not_after, profile,
                                       replaces, replaces_serial)
              values (${id}, ${o.accountId}, ${allValid ? 'ready' : 'pending'}, ${json(tx, o.identifiers)}, ${o.expires},
                      ${o.notBefore ?? null}, ${o.notAfter ?? null}, ${o.profile ?? null},
                      ${o.replaces?.certId ?? null}, ${o.replaces?.serial ?? null})`
            const links = authzIds.map((authz_id, position) => ({ order_id: id, authz_id, position }))
            await tx`insert into acme_order_authorizations ${tx(links, 'order_id', 'authz_id', 'position')}`
            if (o.replaces) {
              // A replacement claim held by an order that failed may be taken over (RFC 9773 §5).
              const claimed = await tx`
                insert into acme_replacements (serial, order_id) values (${o.replaces.serial}, ${id})
                on conflict (serial) do update set order_id = excluded.order_id, created_at = now()
                  where (select status from acme_orders where id = acme_replacements.order_id) = 'invalid'
                returning serial`
              if (!claimed.length) throw new AcmeStoreConflict('alreadyReplaced')
            }
          })
        } catch (e) {
          if (isUniqueViolation(e) && o.replaces) throw new AcmeStoreConflict('alreadyReplaced')
          throw e
        }
        return (await store.orders.byId(id))!
      },
      async byId(id: string): Promise<AcmeOrder | undefined> {
        const rows = await sql<OrderRow[]>`${orderSelect} where o.id = ${id}`
        return rows[0] ? orderFromRow(rows[0]) : undefined
      },
      /** Orders of an account, oldest first, after the keyset cursor `afterSeq`. */
      async forAccount(accountId: string, afterSeq: string | undefined, limit: number): Promise<AcmeOrder[]> {
        const rows = await sql<OrderRow[]>`
          ${orderSelect} where o.account_id = ${accountId} ${afterSeq ? sql`and o.seq > ${afterSeq}` : sql``}
          order by o.seq limit ${limit}`
        return rows.map((r) => orderFromRow(r))
      },
      /** ready → processing; undefined when another request won or the order is not ready. */
      async startProcessing(id: string): Promise<AcmeOrder | undefined> {
        const rows = await sql`
          update acme_orders set status = 'processing', updated_at = now()
          where id = ${id} and status = 'ready' and expires > now() returning id`
        return rows.length ? store.orders.byId(id) : undefined
      },
      /** Records the inventory row the order waits for (held for approval) or got (issued: valid). */
      async recordCertificate(id: string, certificateId: string, serial: string, issued: boolean): Promise<AcmeOrder> {
        await sql`
          update acme_orders set certificate_id = ${certificateId}, certificate_serial = ${serial},
            status = ${issued ? 'valid' : 'processing'}, updated_at = now()
          where id = ${id} and status = 'processing'`
        return (await store.orders.byId(id))!
      },
      async fail(id: string, error: StoredProblem): Promise<AcmeOrder> {
        await sql`
          update acme_orders set status = 'invalid', error = ${json(sql, error)}, updated_at = now()
          where id = ${id} and status in ('pending', 'ready', 'processing')`
        return (await store.orders.byId(id))!
      },
    },

    authorizations: {
      async byId(id: string): Promise<AcmeAuthorization | undefined> {
        const rows = await sql<AuthzRow[]>`${authzSelect} where a.id = ${id}`
        return rows[0] ? authzFromRow(rows[0]) : undefined
      },
      async byIds(ids: string[]): Promise<AcmeAuthorization[]> {
        if (!ids.length) return []
        const rows = await sql<AuthzRow[]>`${authzSelect} where a.id in ${sql(ids)}`
        const byId = new Map(rows.map((r) => [r.id, authzFromRow(r)]))
        return ids.map((id) => byId.get(id)).filter((a): a is AcmeAuthorization => a !== undefined)
      },
      /** A valid, unexpired authorization of the account for this identifier, validated after `validatedAfter`. */
      async findReusable(
        accountId: string,
        identifier: AcmeIdentifier,
        wildcard: boolean,
        validatedAfter: Date,
        validUntilAtLeast: Date,
      ): Promise<string | undefined> {
        const rows = await sql<{ id: string }[]>`
          select id from acme_authorizations
          where account_id = ${accountId} and identifier_type = ${identifier.type}
            and identifier_value = ${identifier.value} and wildcard = ${wildcard} and status = 'valid'
            and validated_at >= ${validatedAfter} and expires > ${validUntilAtLeast}
          order by validated_at desc limit 1`
        return rows[0]?.id
      },
      async create(accountId: string, a: NewAuthorization): Promise<AcmeAuthorization> {
        const id = await sql.begin((tx) => insertAuthz(tx, accountId, a))
        return (await store.authorizations.byId(id))!
      },
      /** True when the account holds a valid, unexpired authorization for every identifier (revocation by account). */
      async coversAll(accountId: string, identifiers: AcmeIdentifier[]): Promise<boolean> {
        if (!identifiers.length) return false
        const rows = await sql<{ type: string; value: string }[]>`
          select distinct identifier_type as type,
                 case when wildcard then '*.' || identifier_value else identifier_value end as value
          from acme_authorizations
          where account_id = ${accountId} and status = 'valid' and expires > now()`
        const have = new Set(rows.map((r) => `${r.type}:${r.value}`))
        return identifiers.every((i) => have.has(`${i.type}:${i.value}`))
      },
      /** RFC 8555 §7.5.2 client deactivation: pending or valid → deactivated; its orders become invalid. */
      async deactivate(id: string): Promise<AcmeAuthorization | undefined> {
        await sql.begin(async (tx) => {
          const rows = await tx`
            update acme_authorizations set status = 'deactivated'
            where id = ${id} and status in ('pending', 'valid') returning id`
          if (rows.length) await settleOrders(tx, id, { status: 'deactivated' })
        })
        return store.authorizations.byId(id)
      },
    },

    challenges: {
      async byId(id: string): Promise<AcmeChallenge | undefined> {
        const rows = await sql<ChallengeJson[]>`
          select id, authz_id, type, token, status, validated::text, error from acme_challenges where id = ${id}`
        return rows[0] ? challengeFromJson(rows[0]) : undefined
      },
      /**
       * pending → processing, only while its authorization is pending and unexpired and no sibling challenge
       * is being validated. A validation started more than `staleSeconds` ago (its instance died) may be taken
       * over. False: another request started it, or the authorization is settled.
       */
      async startProcessing(id: string, staleSeconds: number): Promise<boolean> {
        const since = sql`now() - make_interval(secs => ${staleSeconds})`
        const rows = await sql`
          update acme_challenges c set status = 'processing', started_at = now()
          from acme_authorizations a
          where c.id = ${id} and (c.status = 'pending' or (c.status = 'processing' and c.started_at < ${since}))
            and a.id = c.authz_id and a.status = 'pending' and a.expires > now()
            and not exists (select 1 from acme_challenges s
                            where s.authz_id = c.authz_id and s.id <> c.id and s.status = 'processing'
                              and s.started_at >= ${since})
          returning c.id`
        return rows.length > 0
      },
      /** Settles a processing challenge, its authorization and the orders waiting for it, atomically. */
      async complete(id: string, outcome: ChallengeOutcome, authzValiditySeconds: number): Promise<void> {
        await sql.begin(async (tx) => {
          const rows = await tx<{ authz_id: string }[]>`
            update acme_challenges set status = ${outcome.status},
              validated = ${outcome.status === 'valid' ? tx`now()` : null},
              error = ${outcome.status === 'invalid' ? json(tx, outcome.error) : null}
            where id = ${id} and status = 'processing' returning authz_id`
          const authzId = rows[0]?.authz_id
          if (!authzId) return
          const updated = await tx`
            update acme_authorizations set status = ${outcome.status},
              validated_at = ${outcome.status === 'valid' ? tx`now()` : null},
              expires = ${outcome.status === 'valid' ? tx`now() + make_interval(secs => ${authzValiditySeconds})` : tx`expires`}
            where id = ${authzId} and status = 'pending' returning id`
          if (updated.length) await settleOrders(tx, authzId, outcome)
        })
      },
    },

    eabKeys: {
      async create(k: { id: string; hmacKey: Uint8Array; description: string; domains: string[] }): Promise<AcmeEabKey> {
        const rows = await sql<EabRow[]>`
          insert into acme_eab_keys (id, hmac_key, description, domains)
          values (${k.id}, ${Buffer.from(k.hmacKey)}, ${k.description}, ${json(sql, k.domains)}) returning *`
        return eabFromRow(rows[0]!)
      },
      async byId(id: string): Promise<AcmeEabKey | undefined> {
        const rows = await sql<EabRow[]>`select * from acme_eab_keys where id = ${id}`
        return rows[0] ? eabFromRow(rows[0]) : undefined
      },
      async list(): Promise<AcmeEabKey[]> {
        const rows = await sql<EabRow[]>`select * from acme_eab_keys order by created_at desc limit 1000`
        return rows.map(eabFromRow)
      },
      /** Deletes an unbound key; false when it is bound or does not exist. */
      async delete(id: string): Promise<boolean> {
        const r = await sql`delete from acme_eab_keys where id = ${id} and account_id is null`
        return r.count > 0
      },
    },

    renewal: {
      /** The RFC 9773 replacement claim on a certificate serial, if any order made one. */
      async replacedBy(serial: string): Promise<string | undefined> {
        const rows = await sql<{ order_id: string }[]>`select order_id from acme_replacements where serial = ${serial}`
        return rows[0]?.order_id
      },
      async flags(): Promise<RenewalFlag[]> {
        const rows = await sql<{ scope: 'backend' | 'profile'; name: string; explanation_url: string | null; created_at: Date }[]>`
          select scope, name, explanation_url, created_at from acme_renewal_flags order by scope, name`
        return rows.map((r) => ({ scope: r.scope, name: r.name, explanationUrl: r.explanation_url, createdAt: r.created_at }))
      },
      async setFlag(scope: 'backend' | 'profile', name: string, explanationUrl: string | undefined): Promise<void> {
        await sql`
          insert into acme_renewal_flags (scope, name, explanation_url) values (${scope}, ${name}, ${explanationUrl ?? null})
          on conflict (scope, name) do update set explanation_url = excluded.explanation_url`
      },
      async clearFlag(scope: 'backend' | 'profile', name: string): Promise<boolean> {
        const r = await sql`delete from acme_renewal_flags where scope = ${scope} and name = ${name}`
        return r.count > 0
      },
    },

    rateLimits: {
      /**
       * Counts one event under `key` in the current fixed window; returns the seconds until the window ends
       * when the limit is exceeded, else undefined. Old windows are dropped as they are passed.
       */
      async hit(key: string, limit: number, windowSeconds: number): Promise<number | undefined> {
        const rows = await sql<{ count: number; retry: number }[]>`
          with w as (select to_timestamp(floor(extract(epoch from now()) / ${windowSeconds}) * ${windowSeconds}) as start)
          insert into acme_rate_limits (key, window_start, count)
          select ${key}, w.start, 1 from w
          on conflict (key, window_start) do update set count = acme_rate_limits.count + 1
          returning count, ceil(extract(epoch from (window_start + make_interval(secs => ${windowSeconds}) - now())))::int
            as retry`
        const row = rows[0]!
        if (row.count === 1) {
          await sql`delete from acme_rate_limits where key = ${key} and window_start < now() - make_interval(secs => ${windowSeconds})`
        }
        return row.count > limit ? Math.max(1, row.retry) : undefined
      },
    },
  }
  return store
}

export type AcmeStore = ReturnType<typeof acmeStore>
