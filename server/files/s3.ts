/**
 * The S3 file store: each file one object in a bucket of any S3-compatible
 * service (AWS S3, MinIO, Ceph, R2…). Uploads stream in as a multipart upload
 * in 5 MiB parts, one part in flight per file (so a file is never held whole);
 * a failed upload is aborted, leaving nothing behind.
 */
import { DeleteObjectsCommand, GetObjectCommand, NoSuchKey, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { Readable } from "node:stream";
import type { FileStore } from "./store";

export interface S3Settings {
  bucket: string;
  /** Another S3-compatible service than AWS (path-style addressing then). */
  endpoint: string | null;
  region: string;
  /** Prepended to every key, e.g. "switchboard/". */
  prefix: string;
  /** Both, or neither (the SDK's default chain: environment, instance role…). */
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
}

const PART_BYTES = 5 * 1024 * 1024;

export class S3FileStore implements FileStore {
  readonly kind = "s3";
  private readonly client: S3Client;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      // Checksums only where S3 requires them: many compatible services do not know the newer ones.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async put(key: string, source: AsyncIterable<Buffer>): Promise<number> {
    let total = 0;
    const counted = Readable.from(
      (async function* () {
        for await (const chunk of source) {
          total += chunk.length;
          yield chunk;
        }
      })(),
    );
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.settings.bucket, Key: this.key(key), Body: counted },
      partSize: PART_BYTES,
      queueSize: 1,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
      return total;
    } catch (err) {
      await this.delete([key]).catch(() => {});
      throw err;
    }
  }

  async *get(key: string): AsyncIterable<Buffer> {
    let body: AsyncIterable<Uint8Array>;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.key(key) }));
      body = object.Body as AsyncIterable<Uint8Array>;
    } catch (err) {
      if (err instanceof NoSuchKey) return; // as the other stores: nothing stored, nothing read
      throw err;
    }
    for await (const chunk of body) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }

  async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const Objects = keys.slice(i, i + 1000).map((k) => ({ Key: this.key(k) }));
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.settings.bucket, Delete: { Objects, Quiet: true } }));
    }
  }

  private key(key: string): string {
    return `${this.settings.prefix}${key}`;
  }
}
