// SCEP state (RFC 8894): transactions per transactionID and requester key, and one-time dynamic challenges.
import { batcher } from './batch.js'
import type { Sql } from './database.js'

export interface ScepTransaction {
  transactionId: string
  signerKeySha256: string
  label: string
  /** 19 PKCSReq or 17 RenewalReq. */
  messageType: number
  requestKeySha256: string
  /** Inventory id of the request's certificate row; null while the issuance service has not recorded it yet. */
  certificateId: string | null
  /** The transaction's reference (a UUID): issue with it as requestRef and the certificate is found by it. */
  ref: string
  createdAt: Date
}

export interface Begun {
  created: boolean
  transaction: ScepTransaction
}

export interface NewScepTransaction {
  transactionId: string
  signerKeySha256: string
  label: string
  messageType: number
  requestKeySha256: string
}

export interface ScepChallenge {
  id: string
  label: string
  commonName: string | null
  expiresAt: Date
  createdBy: string
  createdAt: Date
  usedAt: Date | null
  usedBy: string | null
}

interface TransactionRow {
  transaction_id: string
  signer_key_sha256: string
  label: string
  message_type: number
  request_key_sha256: string
  certificate_id: string | null
  ref: string
  created_at: Date
}

interface ChallengeRow {
  id: string
  label: string
  common_name: string | null
  expires_at: Date
  created_by: string
  created_at: Date
  used_at: Date | null
  used_by: string | null
}

const fromTransactionRow = (r: TransactionRow): ScepTransaction => ({
  transactionId: r.transaction_id,
  signerKeySha256: r.signer_key_sha256,
  label: r.label,
  messageType: r.message_type,
  requestKeySha256: r.request_key_sha256,
  certificateId: r.certificate_id,
  ref: r.ref,
  createdAt: r.created_at,
})

const fromChallengeRow = (r: ChallengeRow): ScepChallenge => ({
  id: r.id,
  label: r.label,
  commonName: r.common_name,
  expiresAt: r.expires_at,
  createdBy: r.created_by,
  createdAt: r.created_at,
  usedAt: r.used_at,
  usedBy: r.used_by,
})

// The certificate of a transaction: the one reserved with its reference, or (rows of version 5) the linked one.
const transactionColumns = (sql: Sql) =>
  sql`transaction_id, signer_key_sha256, label, message_type, request_key_sha256, ref::text, created_at,
      coalesce(certificate_id, (select c.id from certificates c where c.request_ref = scep_transactions.ref
                                order by c.id desc limit 1))::text as certificate_id`
const challengeColumns = (sql: Sql) =>
  sql`id::text, label, common_name, expires_at, created_by, created_at, used_at, used_by`

export function scepStore(sql: Sql) {
  const keyOf = (transactionId: string, signerKeySha256: string) => `${transactionId}\n${signerKeySha256}`

  /**
   * Opens in one statement (parallel text arrays, as the inventory's batches), answered in order: each the insert,
   * or (on conflict) the row that is there. A row committed by a concurrent request after the statement's snapshot
   * is not in its answer: that open is tried again on its own, in a new statement.
   */
  async function beginMany(items: NewScepTransaction[]): Promise<(Begun | Error)[]> {
    const firsts = new Map<string, NewScepTransaction>()
    for (const t of items) {
      const key = keyOf(t.transactionId, t.signerKeySha256)
      if (!firsts.has(key)) firsts.set(key, t)
    }
    const distinct = [...firsts.values()]
    const column = (f: (t: NewScepTransaction) => string) => distinct.map(f)
    const rows = await sql<(TransactionRow & { created: boolean })[]>`
      with i as (
        select * from unnest(${column((t) => t.transactionId)}::text[], ${column((t) => t.signerKeySha256)}::text[],
                             ${column((t) => t.label)}::text[], ${column((t) => String(t.messageType))}::text[],
                             ${column((t) => t.requestKeySha256)}::text[])
          with ordinality as i(transaction_id, signer_key_sha256, label, message_type, request_key_sha256, pos)
      ),
      inserted as (
        insert into scep_transactions (transaction_id, signer_key_sha256, label, message_type, request_key_sha256)
        select transaction_id, signer_key_sha256, label, message_type::smallint, request_key_sha256 from i order by pos
        on conflict do nothing
        returning ${transactionColumns(sql)}, true as created
      )
      select * from inserted
      union all
      select ${transactionColumns(sql)}, false as created from scep_transactions
      where (transaction_id, signer_key_sha256) in (select transaction_id, signer_key_sha256 from i)
        and not exists (select 1 from inserted n where n.transaction_id = scep_transactions.transaction_id
                                                   and n.signer_key_sha256 = scep_transactions.signer_key_sha256)`
    const found = new Map(rows.map((r) => [keyOf(r.transaction_id, r.signer_key_sha256), r]))
    const settled = new Map<string, Promise<Begun>>()
    for (const [key, t] of firsts) {
      const row = found.get(key)
      settled.set(key, row ? Promise.resolve({ created: row.created, transaction: fromTransactionRow(row) }) : beginOne(t))
    }
    const answered = new Set<string>()
    return Promise.all(
      items.map(async (t) => {
        const key = keyOf(t.transactionId, t.signerKeySha256)
        const begun = await settled.get(key)!.catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))
        if (begun instanceof Error) return begun
        if (answered.has(key)) return { created: false, transaction: begun.transaction }
        answered.add(key)
        return begun
      }),
    )
  }

  async function getTransaction(transactionId: string, signerKeySha256: string): Promise<ScepTransaction | undefined> {
    const rows = await sql<TransactionRow[]>`
      select ${transactionColumns(sql)} from scep_transactions
      where transaction_id = ${transactionId} and signer_key_sha256 = ${signerKeySha256}`
    return rows[0] ? fromTransactionRow(rows[0]) : undefined
  }

  async function beginOne(t: NewScepTransaction): Promise<Begun> {
    const [begun] = await beginMany([t])
    if (begun instanceof Error) throw begun
    return begun!
  }
  const beginBatched = batcher(beginMany, beginOne)

  return {
    /**
     * Opens a transaction before the request is issued (write-ahead, like the inventory): `created` false means
     * one with this transactionID and requester key exists already, and `transaction` is that one. Opens of the
     * same event-loop turn share one statement (batch.ts); the same transaction named twice in one turn is
     * created by the first and found by the others.
     */
    beginTransaction: (t: NewScepTransaction): Promise<Begun> => beginBatched(t),

    getTransaction,

    /** Drops a transaction whose request was refused (the client may try again with the same transactionID). */
    async removeTransaction(transactionId: string, signerKeySha256: string): Promise<void> {
      await sql`
        delete from scep_transactions
        where transaction_id = ${transactionId} and signer_key_sha256 = ${signerKeySha256}`
    },

    async createChallenge(c: {
      label: string
      secretSha256: string
      commonName: string | undefined
      expiresAt: Date
      createdBy: string
    }): Promise<ScepChallenge> {
      const rows = await sql<ChallengeRow[]>`
        insert into scep_challenges (label, secret_sha256, common_name, expires_at, created_by)
        values (${c.label}, ${c.secretSha256}, ${c.commonName ?? null}, ${c.expiresAt}, ${c.createdBy})
        returning ${challengeColumns(sql)}`
      return fromChallengeRow(rows[0]!)
    },

    /**
     * Uses up a dynamic challenge in one statement (single use even with concurrent requests on several
     * instances): it must belong to the label, be unused and unexpired, and name this common name if it names one.
     */
    async redeemChallenge(r: {
      label: string
      secretSha256: string
      commonName: string | undefined
      usedBy: string
    }): Promise<ScepChallenge | undefined> {
      const rows = await sql<ChallengeRow[]>`
        update scep_challenges set used_at = now(), used_by = ${r.usedBy}
        where secret_sha256 = ${r.secretSha256} and label = ${r.label} and used_at is null and expires_at > now()
          and (common_name is null or lower(common_name) = lower(${r.commonName ?? ''}))
        returning ${challengeColumns(sql)}`
      return rows[0] ? fromChallengeRow(rows[0]) : undefined
    },

    /** Unused, unexpired challenges, newest first. */
    async listChallenges(q: { label?: string | undefined; limit: number }): Promise<ScepChallenge[]> {
      const rows = await sql<ChallengeRow[]>`
        select ${challengeColumns(sql)} from scep_challenges
        where used_at is null and expires_at > now() ${q.label ? sql`and label = ${q.label}` : sql``}
        order by id desc limit ${q.limit}`
      return rows.map(fromChallengeRow)
    },

    /** Withdraws an unused challenge; false when there is no such unused challenge. */
    async deleteChallenge(id: string): Promise<boolean> {
      if (!/^\d{1,18}$/.test(id)) return false
      const rows = await sql`delete from scep_challenges where id = ${id} and used_at is null returning id`
      return rows.length > 0
    },

    /** Row counts (tests assert that refused requests store nothing). */
    async counts(): Promise<{ transactions: number; usedChallenges: number }> {
      const [row] = await sql<{ transactions: number; used: number }[]>`
        select (select count(*)::int from scep_transactions) as transactions,
               (select count(*)::int from scep_challenges where used_at is not null) as used`
      return { transactions: row!.transactions, usedChallenges: row!.used }
    },
  }
}
export type ScepStore = ReturnType<typeof scepStore>
