// ACME state (RFC 8555 §7.1): accounts, orders, authorizations, challenges, nonces, EAB keys, RFC 9773
// replacements, early-renewal flags and rate-limit counters. Every method is one statement or one short
// transaction: no caller holds a transaction across network I/O (the embedded store has one connection).
import { randomBytes, randomUUID } from 'node:crypto'
import type postgres from 'postgres'
import { batcher } from './batch.js'
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

/** What a signed request reads besides its nonce: the signing account, and the authorization it is about. */
export interface NonceRead {
  fresh: boolean
  account: AcmeAccount | undefined
  /** With a prefetch: the authorization (undefined when there is none of that id). */
  authz?: AcmeAuthorization | undefined
}
export type Prefetch = { authz: string } | { challenge: string }

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
  /** The reference its certificate is reserved with (set when finalize starts; IssueRequest.requestRef). */
  requestRef: string | null
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
  /** Per order identifier, in order: the authorization to create (unless one is reused, see below). */
  authorizations: NewAuthorization[]
  /**
   * Reuse (RFC 8555 §7.4): a valid authorization of the account for the same identifier, validated at or after
   * this time and valid beyond the order's expiry, takes the place of a new one. Undefined: never reuse.
   */
  reuseValidatedAfter?: Date | undefined
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
  /** The status of the certificate reserved with the order's request_ref, when there is one. */
  certificate_status: string | null
  request_ref: string | null
  /** Every authorization of the order is valid (read with the row). */
  authorized: boolean
}
/**
 * `ready` is derived, not stored: a pending order whose authorizations are all valid reads as ready. Settling a
 * challenge then writes the challenge and its authorization only — no order row to lock, and no race between
 * sibling authorizations settling at once (issue #3), since readiness is read from committed rows.
 */
const orderStatus = (r: OrderRow, now: number): OrderStatus => {
  if ((r.status === 'pending' || r.status === 'ready') && r.expires.getTime() <= now) return 'invalid'
  // Finalize records nothing on the order once issued: its certificate, found by the order's reference, says so.
  if (r.status === 'processing' && (r.certificate_status === 'valid' || r.certificate_status === 'revoked')) return 'valid'
  return r.status === 'pending' && r.authorized ? 'ready' : r.status
}
const orderFromRow = (r: OrderRow, now = Date.now()): AcmeOrder => ({
  id: r.id,
  seq: r.seq,
  accountId: r.account_id,
  status: orderStatus(r, now),
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
  requestRef: r.request_ref,
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
/** An AuthzRow as to_json writes it (timestamps as text). */
type AuthzJson = Omit<AuthzRow, 'expires' | 'validated_at'> & { expires: string; validated_at: string | null }
const authzFromJson = (j: AuthzJson): AcmeAuthorization =>
  authzFromRow({ ...j, expires: new Date(j.expires), validated_at: j.validated_at ? new Date(j.validated_at) : null })

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
  /** The columns of an OrderRow, for `o` an acme_orders row (or the RETURNING rows of a statement changing one). */
  const orderColumns = sql`
    o.id, o.seq::text, o.account_id, o.status, o.identifiers, o.expires, o.not_before, o.not_after, o.profile,
    o.replaces, o.error, o.request_ref::text,
    coalesce(o.certificate_id::text, (select c.id::text from certificates c where c.request_ref = o.request_ref)) as certificate_id,
    coalesce(o.certificate_serial, (select c.serial from certificates c where c.request_ref = o.request_ref)) as certificate_serial,
    (select c.status from certificates c where c.request_ref = o.request_ref) as certificate_status,
    (select array_agg(oa.authz_id order by oa.position) from acme_order_authorizations oa where oa.order_id = o.id)
      as authz_ids,
    not exists (select 1 from acme_order_authorizations oa join acme_authorizations a on a.id = oa.authz_id
                where oa.order_id = o.id and a.status <> 'valid') as authorized`
  const orderSelect = sql`select ${orderColumns} from acme_orders o`

  /** Orders waiting on an authorization that failed (or was deactivated) fail with it (RFC 8555 §7.1.6). */
  const invalidateOrdersOf = (q: Sql | Tx, authzIds: postgres.PendingQuery<postgres.Row[]>, error: StoredProblem | null) => q`
    update acme_orders set status = 'invalid', error = ${error ? json(q, error) : null}, updated_at = now()
    where status in ('pending', 'ready')
      and id in (select order_id from acme_order_authorizations where authz_id in (${authzIds}))`

  /** Challenge rows of new authorizations: one per offered type, each with its own token. */
  const challengeRows = (authzId: string, a: NewAuthorization) =>
    a.preauthorized ? [] : a.challengeTypes.map((type, position) => ({ id: newId(), authz_id: authzId, position, type, token: newToken() }))

  // Rows go in as parallel text arrays, typed in SQL: postgres.js types a JS array by its first element (bool,
  // timestamptz) yet sends an array literal, which PostgreSQL then refuses.
  /** New authorizations as rows (id, type, value, wildcard, pre, expires, pos), `pos` counting from 1. */
  const authzInput = (q: Sql | Tx, ids: string[], list: NewAuthorization[]) => q`
    select u.id, u.type, u.value, u.wildcard::bool as wildcard, u.pre::bool as pre, u.expires::timestamptz as expires, u.pos
    from unnest(${ids}::text[], ${list.map((a) => a.identifier.type)}::text[], ${list.map((a) => a.identifier.value)}::text[],
                ${list.map((a) => String(a.wildcard))}::text[], ${list.map((a) => String(a.preauthorized === true))}::text[],
                ${list.map((a) => a.expires.toISOString())}::text[])
      with ordinality as u(id, type, value, wildcard, pre, expires, pos)`
  /** Challenge rows (id, authz_id, position, type, token). */
  const challengeInput = (q: Sql | Tx, rows: ReturnType<typeof challengeRows>) => q`
    select u.id, u.authz_id, u.position::smallint as position, u.type, u.token
    from unnest(${rows.map((c) => c.id)}::text[], ${rows.map((c) => c.authz_id)}::text[],
                ${rows.map((c) => String(c.position))}::text[], ${rows.map((c) => c.type)}::text[],
                ${rows.map((c) => c.token)}::text[]) as u(id, authz_id, position, type, token)`

  /** Inserts authorizations and their challenges in one statement; returns their ids in order. */
  async function insertAuthzs(q: Sql | Tx, accountId: string, list: NewAuthorization[]): Promise<string[]> {
    const ids = list.map(() => newId())
    const challenges = list.flatMap((a, i) => challengeRows(ids[i]!, a))
    await q`
      with authz as (
        insert into acme_authorizations (id, account_id, identifier_type, identifier_value, wildcard, status, expires,
                                         validated_at)
        select i.id, ${accountId}, i.type, i.value, i.wildcard, case when i.pre then 'valid' else 'pending' end,
               i.expires, case when i.pre then now() end
        from (${authzInput(q, ids, list)}) as i
        returning id
      )
      insert into acme_challenges (id, authz_id, position, type, token, status)
      select c.id, c.authz_id, c.position, c.type, c.token, 'pending'
      from (${challengeInput(q, challenges)}) as c
      where c.authz_id in (select id from authz)`
    return ids
  }

  type Signer = { id: string } | { thumbprint: string }
  type NonceItem = { value: string; signer: Signer; prefetch?: Prefetch | undefined }
  async function consumeMany(items: NonceItem[]): Promise<NonceRead[]> {
    const text = (f: (i: NonceItem) => string | undefined) => items.map((i) => f(i) ?? '')
    // The authorization asked for is read in the same statement (by its id, or that of one of its challenges); ''
    // stands for "none" in the text arrays.
    const rows = await sql<(AccountRow & { nonce_fresh: boolean | null; pos: string; authz: AuthzJson | null })[]>`
      with r as (
        select * from unnest(${text((i) => i.value)}::text[],
                             ${text((i) => ('id' in i.signer ? i.signer.id : undefined))}::text[],
                             ${text((i) => ('thumbprint' in i.signer ? i.signer.thumbprint : undefined))}::text[],
                             ${text((i) => (i.prefetch && 'authz' in i.prefetch ? i.prefetch.authz : undefined))}::text[],
                             ${text((i) => (i.prefetch && 'challenge' in i.prefetch ? i.prefetch.challenge : undefined))}::text[])
          with ordinality as r(nonce, account_id, thumbprint, authz_id, challenge_id, pos)
      ),
      n as (delete from acme_nonces where value in (select nonce from r) returning value, expires_at > now() as fresh)
      select r.pos::text as pos, n.fresh as nonce_fresh, acct.*, z.authz
      from r left join n on n.value = r.nonce
        left join acme_accounts acct on (r.account_id <> '' and acct.id = r.account_id)
                                     or (r.thumbprint <> '' and acct.key_thumbprint = r.thumbprint)
        left join lateral (
          select to_json(x) as authz from (
            ${authzSelect}
            where (r.authz_id <> '' and a.id = r.authz_id)
               or (r.challenge_id <> '' and a.id = (select ch.authz_id from acme_challenges ch where ch.id = r.challenge_id))
          ) x
        ) z on true
      order by r.pos`
    const seen = new Set<string>()
    return items.map((item, i) => {
      const row = rows[i]!
      const read: NonceRead = {
        fresh: row.nonce_fresh === true && !seen.has(item.value),
        account: row.id ? accountFromRow(row) : undefined,
      }
      if (row.nonce_fresh) seen.add(item.value)
      if (item.prefetch) read.authz = row.authz ? authzFromJson(row.authz) : undefined
      return read
    })
  }
  const consumeBatched = batcher(consumeMany, async (item: NonceItem) => (await consumeMany([item]))[0]!)

  /** Writes a validation's outcome to the challenge matching `where` and to its pending authorization. */
  async function settleChallenge(
    where: postgres.PendingQuery<postgres.Row[]>,
    outcome: ChallengeOutcome,
    authzValiditySeconds: number,
  ): Promise<AcmeChallenge | undefined> {
    const valid = outcome.status === 'valid'
    const error = outcome.status === 'invalid' ? outcome.error : null
    const rows = await sql<ChallengeJson[]>`
      with c as (
        update acme_challenges set status = ${outcome.status}, validated = ${valid ? sql`now()` : null},
          error = ${error ? json(sql, error) : null}
        where ${where}
        returning id, authz_id, type, token, status, validated::text, error
      ),
      a as (
        update acme_authorizations set status = ${outcome.status},
          validated_at = ${valid ? sql`now()` : null},
          expires = ${valid ? sql`now() + make_interval(secs => ${authzValiditySeconds})` : sql`expires`}
        where id = (select authz_id from c) and status = 'pending' returning id
      )
      ${valid ? sql`` : sql`, o as (${invalidateOrdersOf(sql, sql`select id from a`, error)})`}
      select * from c`
    return rows[0] ? challengeFromJson(rows[0]) : undefined
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
      /**
       * Consumes a nonce (as `consume`) and reads the account that signed the request, by id (kid) or by key
       * thumbprint (jwk), in one statement: every signed request costs one round trip, and the account it sees
       * is the current row even when another instance changed it. `prefetch`: the authorization the request is
       * about (by its id, or by one of its challenges' ids), read in the same statement. Requests of the same
       * event-loop turn share one statement (batch.ts); a nonce named twice in one batch is fresh for the first
       * request only.
       */
      consumeWithAccount: (value: string, signer: Signer, prefetch?: Prefetch): Promise<NonceRead> =>
        consumeBatched({ value, signer, prefetch }),
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
        const insert = (q: Sql | Tx) => q<AccountRow[]>`
          insert into acme_accounts (id, key_thumbprint, jwk, status, contact, tos_agreed, eab_key_id)
          values (${id}, ${a.thumbprint}, ${json(q, a.jwk)}, 'valid', ${json(q, a.contact)}, ${a.tosAgreed},
                  ${a.eabKeyId ?? null})
          returning *`
        try {
          if (!a.eabKeyId) return accountFromRow((await insert(sql))[0]!)
          const eabKeyId = a.eabKeyId
          return await sql.begin(async (tx) => {
            const rows = await insert(tx)
            const bound = await tx`
              update acme_eab_keys set account_id = ${id}, bound_at = now()
              where id = ${eabKeyId} and account_id is null returning id`
            if (!bound.length) throw new AcmeStoreConflict('eabKeyBound')
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
      /**
       * Inserts the order with its new authorizations and challenges in one statement (and its RFC 9773 claim in the
       * same transaction). With `reuseValidatedAfter`, an identifier whose account holds a valid authorization
       * validated since then and valid beyond the order's expiry gets that one instead of a new one (RFC 8555 §7.4).
       */
      async create(o: NewOrder): Promise<AcmeOrder> {
        const id = newId()
        const list = o.authorizations
        const authzIds = list.map(() => newId())
        const challenges = list.flatMap((a, i) => challengeRows(authzIds[i]!, a))
        const insert = (q: Sql | Tx) => q<OrderRow[]>`
          with i as (${authzInput(q, authzIds, list)}),
          reused as (
            select distinct on (i.pos) i.pos, a.id
            from i join acme_authorizations a
              on a.account_id = ${o.accountId} and a.identifier_type = i.type and a.identifier_value = i.value
                 and a.wildcard = i.wildcard
            where ${o.reuseValidatedAfter ?? null}::timestamptz is not null and a.status = 'valid'
              and a.validated_at >= ${o.reuseValidatedAfter ?? null}::timestamptz and a.expires > ${o.expires}
            order by i.pos, a.validated_at desc
          ),
          links as (
            select i.pos, coalesce(r.id, i.id) as authz_id, (r.id is not null or i.pre) as valid
            from i left join reused r on r.pos = i.pos
          ),
          authz as (
            insert into acme_authorizations (id, account_id, identifier_type, identifier_value, wildcard, status,
                                             expires, validated_at)
            select i.id, ${o.accountId}, i.type, i.value, i.wildcard, case when i.pre then 'valid' else 'pending' end,
                   i.expires, case when i.pre then now() end
            from i where i.pos not in (select pos from reused)
            returning id
          ),
          ch as (
            insert into acme_challenges (id, authz_id, position, type, token, status)
            select c.id, c.authz_id, c.position, c.type, c.token, 'pending'
            from (${challengeInput(q, challenges)}) as c
            where c.authz_id in (select id from authz)
          ),
          o as (
            insert into acme_orders (id, account_id, status, identifiers, expires, not_before, not_after, profile,
                                     replaces, replaces_serial)
            values (${id}, ${o.accountId}, 'pending', ${json(q, o.identifiers)}, ${o.expires}, ${o.notBefore ?? null},
                    ${o.notAfter ?? null}, ${o.profile ?? null}, ${o.replaces?.certId ?? null},
                    ${o.replaces?.serial ?? null})
            returning *
          ),
          oa as (
            insert into acme_order_authorizations (order_id, authz_id, position)
            select ${id}, authz_id, pos - 1 from links
          )
          select o.id, o.seq::text, o.account_id, o.status, o.identifiers, o.expires, o.not_before, o.not_after,
            o.profile, o.replaces, o.error, o.certificate_id::text, o.certificate_serial,
            null::text as certificate_status, null::text as request_ref,
            (select array_agg(authz_id order by pos) from links) as authz_ids,
            (select bool_and(valid) from links) as authorized
          from o`
        const replaces = o.replaces
        if (!replaces) return orderFromRow((await insert(sql))[0]!)
        try {
          return await sql.begin(async (tx) => {
            const rows = await insert(tx)
            // A replacement claim held by an order that failed may be taken over (RFC 9773 §5).
            const claimed = await tx`
              insert into acme_replacements (serial, order_id) values (${replaces.serial}, ${id})
              on conflict (serial) do update set order_id = excluded.order_id, created_at = now()
                where (select status from acme_orders where id = acme_replacements.order_id) = 'invalid'
              returning serial`
            if (!claimed.length) throw new AcmeStoreConflict('alreadyReplaced')
            return orderFromRow(rows[0]!)
          })
        } catch (e) {
          if (isUniqueViolation(e)) throw new AcmeStoreConflict('alreadyReplaced')
          throw e
        }
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
      /**
       * ready → processing for an order of `accountId`, with a fresh request reference for the certificate it is to
       * get (AcmeOrder.requestRef); undefined when there is no such order of the account, it is not ready, or another
       * request won (the caller reads the order to say which).
       */
      async startProcessing(id: string, accountId: string): Promise<AcmeOrder | undefined> {
        const rows = await sql<OrderRow[]>`
          with o as (
            update acme_orders o set status = 'processing', request_ref = ${randomUUID()}, updated_at = now()
            where o.id = ${id} and o.account_id = ${accountId} and o.status in ('pending', 'ready') and o.expires > now()
              and not exists (select 1 from acme_order_authorizations oa join acme_authorizations a on a.id = oa.authz_id
                              where oa.order_id = o.id and a.status <> 'valid')
            returning o.*
          )
          select ${orderColumns} from o`
        return rows[0] ? orderFromRow(rows[0]) : undefined
      },
      /** processing → ready again, when finalize refused the CSR before anything was issued (§7.4). */
      async resumeReady(id: string): Promise<void> {
        await sql`
          update acme_orders o set status = 'pending', request_ref = null, updated_at = now()
          where id = ${id} and status = 'processing' and certificate_id is null
            and not exists (select 1 from certificates c where c.request_ref = o.request_ref)`
      },
      /**
       * An order waiting for its certificate becomes valid with it. Orders finalized since version 7 read as valid
       * once their certificate is (by request reference); this settles the ones linked before.
       */
      async recordIssued(id: string, certificateId: string, serial: string): Promise<AcmeOrder> {
        const rows = await sql<OrderRow[]>`
          with o as (
            update acme_orders set certificate_id = ${certificateId}, certificate_serial = ${serial},
              status = 'valid', updated_at = now()
            where id = ${id} and status = 'processing'
            returning *
          )
          select ${orderColumns} from o`
        return rows[0] ? orderFromRow(rows[0]) : (await store.orders.byId(id))!
      },
      async fail(id: string, error: StoredProblem): Promise<AcmeOrder> {
        const rows = await sql<OrderRow[]>`
          with o as (
            update acme_orders set status = 'invalid', error = ${json(sql, error)}, updated_at = now()
            where id = ${id} and status in ('pending', 'ready', 'processing')
            returning *
          )
          select ${orderColumns} from o`
        return rows[0] ? orderFromRow(rows[0]) : (await store.orders.byId(id))!
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
      async create(accountId: string, a: NewAuthorization): Promise<AcmeAuthorization> {
        const [id] = await insertAuthzs(sql, accountId, [a])
        return (await store.authorizations.byId(id!))!
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
        await sql`
          with d as (
            update acme_authorizations set status = 'deactivated'
            where id = ${id} and status in ('pending', 'valid') returning id
          ),
          o as (${invalidateOrdersOf(sql, sql`select id from d`, null)})
          select count(*) from d`
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
       * pending → processing for a challenge of `accountId`, only while its authorization is pending and unexpired
       * and no sibling challenge is being validated; returns the challenge and its authorization, read in the same
       * statement. A validation started more than `staleSeconds` ago (its instance died) may be taken over.
       * Undefined: no such challenge of this account, another request started it, or the authorization is settled
       * (the caller reads the rows to say which).
       */
      async startProcessing(
        id: string,
        accountId: string,
        staleSeconds: number,
      ): Promise<{ challenge: AcmeChallenge; authz: AcmeAuthorization } | undefined> {
        const since = sql`now() - make_interval(secs => ${staleSeconds})`
        const rows = await sql<AuthzRow[]>`
          with started as (
            update acme_challenges c set status = 'processing', started_at = now()
            from acme_authorizations a
            where c.id = ${id} and (c.status = 'pending' or (c.status = 'processing' and c.started_at < ${since}))
              and a.id = c.authz_id and a.account_id = ${accountId} and a.status = 'pending' and a.expires > now()
              and not exists (select 1 from acme_challenges s
                              where s.authz_id = c.authz_id and s.id <> c.id and s.status = 'processing'
                                and s.started_at >= ${since})
            returning c.authz_id
          )
          ${authzSelect} where a.id = (select authz_id from started)`
        if (!rows[0]) return undefined
        // The statement reads the rows as they were before its own update.
        const authz = authzFromRow(rows[0])
        authz.challenges = authz.challenges.map((c) => (c.id === id ? { ...c, status: 'processing' } : c))
        return { challenge: authz.challenges.find((c) => c.id === id)!, authz }
      },
      /**
       * Settles a processing challenge and its authorization in one statement; a failure also fails the orders
       * waiting for it. Orders whose authorizations are now all valid read as ready (see orderStatus). Returns the
       * settled challenge; undefined when it was not processing.
       */
      async complete(id: string, outcome: ChallengeOutcome, authzValiditySeconds: number): Promise<AcmeChallenge | undefined> {
        return settleChallenge(sql`id = ${id} and status = 'processing'`, outcome, authzValiditySeconds)
      },
      /**
       * pending → outcome directly, for a validation that finished before anything was recorded: the conditions of
       * `startProcessing` (challenge of `accountId`, authorization pending and unexpired, no sibling being validated
       * since `staleSeconds`) and the writes of `complete`, in one statement. Undefined when they do not hold.
       */
      async settle(
        id: string,
        accountId: string,
        outcome: ChallengeOutcome,
        authzValiditySeconds: number,
        staleSeconds: number,
      ): Promise<AcmeChallenge | undefined> {
        const since = sql`now() - make_interval(secs => ${staleSeconds})`
        const settleable = sql`
          id = ${id} and status = 'pending'
          and exists (select 1 from acme_authorizations a
                      where a.id = acme_challenges.authz_id and a.account_id = ${accountId} and a.status = 'pending'
                        and a.expires > now())
          and not exists (select 1 from acme_challenges s
                          where s.authz_id = acme_challenges.authz_id and s.id <> acme_challenges.id
                            and s.status = 'processing' and s.started_at >= ${since})`
        return settleChallenge(settleable, outcome, authzValiditySeconds)
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
