import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { AppError } from "./errors";

// scrypt with N=2^15, r=8, p=1: ~32 MiB and ~50 ms per hash here, the OWASP baseline.
const PARAMS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } satisfies ScryptOptions;
const KEY_LENGTH = 32;

/**
 * At most this many hashes at once. scrypt runs on libuv's pool of four
 * threads, which file access and DNS lookups share: a burst of sign-ins
 * (even within the limits per address) must leave them threads to run on.
 */
const CONCURRENT_HASHES = 2;
/** Hashes waiting for a turn, at most: past that the server is too busy signing people in. */
const MAX_WAITING = 64;
let running = 0;
const waiting: Array<() => void> = [];

async function derive(password: string, salt: Buffer, params: ScryptOptions): Promise<Buffer> {
  if (running >= CONCURRENT_HASHES) {
    if (waiting.length >= MAX_WAITING) throw new AppError("unavailable", "too many sign-ins at once; try again in a moment");
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  running += 1;
  try {
    return await new Promise<Buffer>((resolve, reject) =>
      scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, params, (err, key) => (err ? reject(err) : resolve(key))),
    );
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

/** Hashes a password as `scrypt$N$r$p$salt$key` (base64url), parameters kept so they can change later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return ["scrypt", PARAMS.N, PARAMS.r, PARAMS.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** Constant-time check of a password against {@link hashPassword}'s output. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, "base64url");
  const actual = await derive(password, Buffer.from(salt, "base64url"), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: PARAMS.maxmem,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A hash of a random password, checked when the username does not exist so a
 * failed login takes as long whether or not the account exists.
 */
export const decoyHash = hashPassword(randomBytes(16).toString("hex"));
