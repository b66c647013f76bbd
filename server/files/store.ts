/**
 * Where uploaded files' bytes live. Files stream in and out a piece at a time
 * (an upload never sits whole in memory): `put` takes the request body as it
 * arrives, `get` yields the stored bytes in order.
 *
 * - `database` (the default): pieces of up to 256 KiB in the FileChunk table —
 *   nothing else to run, and every instance reads what any of them stored.
 * - `directory`: one file per key under a folder (shared storage, such as an
 *   NFS mount, when several instances run).
 * - `s3`: an object per key in an S3-compatible bucket (s3.ts).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { PrismaClient } from "../db/generated/client";

export interface FileStore {
  readonly kind: "database" | "directory" | "s3";
  /** Stores `source` under `key`; returns the bytes written. On failure nothing is left under the key. */
  put(key: string, source: AsyncIterable<Buffer>): Promise<number>;
  /** The stored bytes, in order. */
  get(key: string): AsyncIterable<Buffer>;
  /** Removes whatever is stored under the keys (a missing key is fine). */
  delete(keys: string[]): Promise<void>;
}

/** Size of one stored piece in the database store. */
export const CHUNK_BYTES = 256 * 1024;

export class DatabaseFileStore implements FileStore {
  readonly kind = "database";
  constructor(private readonly db: PrismaClient) {}

  async put(key: string, source: AsyncIterable<Buffer>): Promise<number> {
    let seq = 0;
    let total = 0;
    try {
      for await (const piece of pieces(source, CHUNK_BYTES)) {
        await this.db.fileChunk.create({ data: { key, seq: seq++, data: piece as Uint8Array<ArrayBuffer> } });
        total += piece.length;
      }
      return total;
    } catch (err) {
      await this.delete([key]);
      throw err;
    }
  }

  async *get(key: string): AsyncIterable<Buffer> {
    // A few pieces per query: one round trip per MiB, at most 1 MiB held.
    for (let seq = 0; ; ) {
      const rows = await this.db.fileChunk.findMany({ where: { key, seq: { gte: seq } }, orderBy: { seq: "asc" }, take: 4 });
      for (const row of rows) yield Buffer.from(row.data);
      if (rows.length < 4) return;
      seq = rows.at(-1)!.seq + 1;
    }
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.db.fileChunk.deleteMany({ where: { key: { in: keys } } });
  }
}

export class DirectoryFileStore implements FileStore {
  readonly kind = "directory";
  constructor(private readonly root: string) {}

  async put(key: string, source: AsyncIterable<Buffer>): Promise<number> {
    const file = this.file(key);
    // Written beside, then renamed: a reader never sees half a file.
    const partial = `${file}.partial`;
    await mkdir(path.dirname(file), { recursive: true });
    let total = 0;
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            total += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(partial, { flags: "wx" }),
      );
      await rename(partial, file);
      return total;
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  get(key: string): AsyncIterable<Buffer> {
    return createReadStream(this.file(key));
  }

  async delete(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.file(key), { force: true })));
  }

  /** Keys are server-made (a UUID, a suffix); two levels of folders keep each folder small. */
  private file(key: string): string {
    if (!/^[a-zA-Z0-9._-]+$/.test(key) || key.startsWith(".")) throw new Error(`bad file key ${JSON.stringify(key)}`);
    return path.join(this.root, key.slice(0, 2), key);
  }
}

/** A buffer as a stream of one chunk (what `put` takes). */
export async function* fromBuffer(data: Buffer): AsyncIterable<Buffer> {
  yield data;
}

/** Regroups a stream's chunks into pieces of `size` bytes (the last may be shorter). */
export async function* pieces(source: AsyncIterable<Buffer>, size: number): AsyncIterable<Buffer> {
  let held: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    let rest = chunk;
    while (length + rest.length >= size) {
      const take = size - length;
      held.push(rest.subarray(0, take));
      yield Buffer.concat(held, size);
      rest = rest.subarray(take);
      held = [];
      length = 0;
    }
    if (rest.length > 0) {
      held.push(rest);
      length += rest.length;
    }
  }
  if (length > 0) yield Buffer.concat(held, length);
}
