/**
 * Proposed server changes, applied from the bench launcher to a running
 * Switchboard (BENCH_EXPERIMENTS=name,…) so they can be measured before
 * anyone edits server/. Each mirrors a patch described in docs/benchmarks.md;
 * the private members they reach are the ones the patch changes.
 *
 * `single-statement-insert` and `hmac-cryptokey` were merged into server/ in
 * 051f49c: they reproduce the before/after numbers on older code only (on
 * later code the first would replace the merged writer with this copy).
 */
import type { Switchboard } from "../server/server";

interface StoredMessage {
  id: bigint;
  roomId: string;
  authorId: string;
  body: string;
  clientMsgId: string | null;
  createdAt: Date;
}

interface Pending {
  roomId: string;
  authorId: string;
  body: string;
  clientMsgId: string | null;
  resolve(result: { row: StoredMessage; created: boolean }): void;
  reject(err: unknown): void;
}

/** The parts of MessageWriter the single-statement patch touches. */
interface WriterInternals {
  db: RawDb;
  writeBatch(batch: Pending[]): Promise<void>;
  rejectNonMembers(batch: Pending[]): Promise<Pending[]>;
  resolveResends(resends: Pending[], justInserted: StoredMessage[]): Promise<void>;
}

interface RawDb {
  $queryRaw<T>(query: TemplateStringsArray, ...values: unknown[]): Promise<T>;
}

export const experiments: Record<string, { describe: string; apply(server: Switchboard): Promise<void> | void }> = {
  "hmac-cryptokey": {
    describe:
      "Accounts keeps its HS256 secret as an imported CryptoKey: jose re-imports a Uint8Array key on every jwtVerify (patch: accounts-cryptokey.diff)",
    async apply(server) {
      const accounts = server.core.accounts as unknown as { key: Uint8Array | CryptoKey };
      accounts.key = await crypto.subtle.importKey(
        "raw",
        new Uint8Array(accounts.key as Uint8Array),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      );
    },
  },
  "drop-request": {
    describe: "drop Engine.IO's reference to the upgrade HTTP request once a socket is connected",
    apply(server) {
      server.io.of("/").on("connection", (socket) => {
        (socket.conn as unknown as { request: unknown }).request = null;
      });
    },
  },
  "single-statement-insert": {
    describe:
      "MessageWriter.writeBatch as one INSERT … SELECT FROM unnest(arrays) WHERE member … RETURNING (patch: message-writer-single-statement.diff)",
    apply(server) {
      const writer = (server.core.messages as unknown as { writer: WriterInternals }).writer;
      writer.writeBatch = async function (this: WriterInternals, batch: Pending[]): Promise<void> {
        const rows = await this.db.$queryRaw<StoredMessage[]>`
          INSERT INTO "Message" ("roomId", "authorId", "body", "clientMsgId")
          SELECT i."roomId", i."authorId", i."body", i."clientMsgId"
          FROM unnest(${batch.map((p) => p.roomId)}::text[], ${batch.map((p) => p.authorId)}::text[],
                      ${batch.map((p) => p.body)}::text[], ${batch.map((p) => p.clientMsgId)}::text[])
               WITH ORDINALITY AS i("roomId", "authorId", "body", "clientMsgId", ord)
          WHERE EXISTS (SELECT 1 FROM "Membership" m WHERE m."roomId" = i."roomId" AND m."userId" = i."authorId")
          ORDER BY i.ord
          ON CONFLICT ("authorId", "clientMsgId") DO NOTHING
          RETURNING "id", "roomId", "authorId", "body", "clientMsgId", "createdAt"`;
        const byClientId = new Map<string, StoredMessage>();
        const anonymous = new Map<string, StoredMessage[]>();
        for (const row of rows) {
          if (row.clientMsgId !== null) byClientId.set(`${row.authorId}\u0000${row.clientMsgId}`, row);
          else {
            const key = `${row.roomId}\u0000${row.authorId}\u0000${row.body}`;
            const list = anonymous.get(key);
            if (list) list.push(row);
            else anonymous.set(key, [row]);
          }
        }
        const leftovers: Pending[] = [];
        for (const p of batch) {
          const key = p.clientMsgId === null ? null : `${p.authorId}\u0000${p.clientMsgId}`;
          const row = key === null ? anonymous.get(`${p.roomId}\u0000${p.authorId}\u0000${p.body}`)?.shift() : byClientId.get(key);
          if (row) {
            p.resolve({ row, created: true });
            if (key !== null) byClientId.delete(key);
          } else leftovers.push(p);
        }
        if (leftovers.length === 0) return;
        const resends = await this.rejectNonMembers(leftovers);
        if (resends.length > 0) await this.resolveResends(resends, rows);
      };
    },
  },
};
