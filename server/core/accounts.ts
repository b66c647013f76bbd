import { randomUUID } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import type { Login, Register, UserSearch } from "../../shared/schemas";
import type { User } from "../../shared/protocol";
import type { PrismaClient } from "../db/generated/client";
import { AppError } from "./errors";
import { decoyHash, hashPassword, verifyPassword } from "./passwords";
import { toUser } from "./wire";
import { isUniqueViolation } from "../db/errors";

const ISSUER = "switchboard";
/** Suffix of the usernames given to host-application users; '@' never appears in a local username. */
const HOST_USERNAME_SUFFIX = "@host";

export interface AccountsOptions {
  /** Signs and verifies Switchboard's own tokens. */
  secret: string;
  /** Verifies tokens signed by a host application (HS256), if configured. */
  hostJwtSecret: string | null;
  tokenTtlSeconds: number;
}

/** Accounts and tokens: registration, login, and turning a token into a user. */
export class Accounts {
  // Imported once: jose imports a raw (Uint8Array) key again on every sign and verify.
  private readonly key: Promise<CryptoKey>;
  private readonly hostKey: Promise<CryptoKey> | null;

  constructor(
    private readonly db: PrismaClient,
    private readonly options: AccountsOptions,
  ) {
    this.key = hmacKey(options.secret);
    this.hostKey = options.hostJwtSecret ? hmacKey(options.hostJwtSecret) : null;
  }

  async register(input: Register): Promise<{ user: User; token: string }> {
    const passwordHash = await hashPassword(input.password);
    try {
      const row = await this.db.user.create({
        data: {
          id: randomUUID(),
          username: input.username,
          displayName: input.displayName ?? input.username,
          passwordHash,
        },
      });
      const user = toUser(row);
      return { user, token: await this.issueToken(user) };
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError("username_taken", "that username is taken");
      throw err;
    }
  }

  async login(input: Login): Promise<{ user: User; token: string }> {
    const row = await this.db.user.findUnique({ where: { username: input.username } });
    const ok = await verifyPassword(input.password, row?.passwordHash ?? (await decoyHash));
    if (!row || !row.passwordHash || !ok) {
      throw new AppError("invalid_credentials", "wrong username or password");
    }
    const user = toUser(row);
    return { user, token: await this.issueToken(user) };
  }

  async issueToken(user: User): Promise<string> {
    return new SignJWT({ name: user.displayName })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(ISSUER)
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime(`${this.options.tokenTtlSeconds}s`)
      .sign(await this.key);
  }

  /**
   * Resolves a bearer token to its user, or throws `unauthorized`.
   * Switchboard's own tokens are tried first, then a host application's
   * (`sub` = the host's user id, optional `name`); a host user is created on
   * first sight and its display name follows the token's `name`.
   */
  async authenticate(token: unknown): Promise<User> {
    if (typeof token !== "string" || token.length === 0 || token.length > 4096) {
      throw new AppError("unauthorized", "a token is required");
    }
    const own = await verify(token, await this.key, { issuer: ISSUER });
    if (own?.sub) {
      const row = await this.db.user.findUnique({ where: { id: own.sub } });
      if (row) return toUser(row);
      throw new AppError("unauthorized", "unknown user");
    }
    if (this.hostKey) {
      const host = await verify(token, await this.hostKey, {});
      if (host) return this.hostUser(host);
    }
    throw new AppError("unauthorized", "invalid or expired token");
  }

  private async hostUser(claims: JWTPayload): Promise<User> {
    const sub = claims.sub;
    if (!sub || sub.length > 64 || claims.exp === undefined) {
      throw new AppError("unauthorized", "host token needs `sub` (≤ 64 chars) and `exp`");
    }
    const name = typeof claims.name === "string" && claims.name.trim() ? claims.name.trim().slice(0, 64) : sub;
    const row =
      (await this.db.user.findUnique({ where: { id: sub } })) ??
      (await this.db.user
        .create({ data: { id: sub, username: `${sub}${HOST_USERNAME_SUFFIX}`, displayName: name } })
        // Two tabs connecting at once both try to create the user: the loser reads the winner's row.
        .catch(async (err: unknown) => {
          if (!isUniqueViolation(err)) throw err;
          return this.db.user.findUniqueOrThrow({ where: { id: sub } });
        }));
    // A host application speaks for its own users, never for local accounts.
    if (row.passwordHash !== null) throw new AppError("unauthorized", "token subject is a local account");
    if (row.displayName !== name) {
      return toUser(await this.db.user.update({ where: { id: sub }, data: { displayName: name } }));
    }
    return toUser(row);
  }

  /**
   * Users whose username or display name starts with `query` (case-insensitive),
   * or whose username is exactly it; for starting DMs and inviting people.
   */
  async search({ query }: UserSearch): Promise<User[]> {
    const rows = await this.db.user.findMany({
      where: {
        OR: [
          { username: { startsWith: query, mode: "insensitive" } },
          { displayName: { startsWith: query, mode: "insensitive" } },
        ],
      },
      orderBy: { username: "asc" },
      take: 20,
    });
    return rows.map(toUser);
  }
}

function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

async function verify(
  token: string,
  key: CryptoKey,
  opts: { issuer?: string },
): Promise<JWTPayload | null> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"], ...opts });
    return payload;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return null;
    throw err;
  }
}
