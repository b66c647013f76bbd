import { randomBytes, randomUUID } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import type { Login, PasswordChange, Register, UserSearch } from "../../shared/schemas";
import type { User } from "../../shared/protocol";
import { cleanDisplayName, identifier } from "../../shared/text";
import type { PrismaClient } from "../db/generated/client";
import { isUniqueViolation } from "../db/errors";
import type { Connections } from "./connections";
import { AppError } from "./errors";
import { decoyHash, hashPassword, verifyPassword } from "./passwords";
import { toUser } from "./wire";

const ISSUER = "switchboard";
/** Suffix of the usernames given to host-application users; '@' never appears in a local username. */
const HOST_USERNAME_SUFFIX = "@host";
/** Ids Switchboard gives its own authors (backend posts): no host token may take them. */
const RESERVED_HOST_ID = /^(system$|bot:)/;
const hostSubject = identifier(64);

export interface AccountsOptions {
  /** Signs and verifies Switchboard's own tokens. */
  secret: string;
  /** Verifies tokens signed by a host application (HS256), if configured. */
  hostJwtSecret: string | null;
  /** Checks on host-application tokens besides the signature and expiry. */
  hostJwt?: { issuer: string | null; audience: string | null; maxTtlSeconds: number | null };
  tokenTtlSeconds: number;
}

/**
 * Limits on guessing passwords, per username: `attempt` counts an attempt
 * before the password is checked and throws `rate_limited` once the
 * username has had too many; `succeeded` clears the count.
 */
export interface LoginGuard {
  attempt(username: string): Promise<void>;
  succeeded(username: string): Promise<void>;
}

/** Who a token speaks for, and for how long. */
export interface Identity {
  user: User;
  /** The session of a Switchboard token; null for a host application's token. */
  sessionId: string | null;
  expiresAt: Date;
}

const noGuard: LoginGuard = { attempt: async () => {}, succeeded: async () => {} };

/**
 * Accounts, tokens and sessions: registration, login, turning a token into a
 * user, signing out (one session or all) and changing a password. Every
 * token Switchboard issues names a session row; deleting the row revokes the
 * token at once on every instance, and the connections it opened are closed.
 */
export class Accounts {
  // Imported once: jose imports a raw (Uint8Array) key again on every sign and verify.
  private readonly key: Promise<CryptoKey>;
  private readonly hostKey: Promise<CryptoKey> | null;

  constructor(
    private readonly db: PrismaClient,
    private readonly connections: Connections,
    private readonly options: AccountsOptions,
    private readonly guard: LoginGuard = noGuard,
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
      return { user, token: await this.issueToken(user, passwordHash) };
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError("username_taken", "that username is taken");
      throw err;
    }
  }

  async login(input: Login): Promise<{ user: User; token: string }> {
    const row = await this.checkPassword(input.username, input.password);
    // Sessions that ran out are of no use to anyone: tidy them as the user comes back.
    await this.db.session.deleteMany({ where: { userId: row.id, expiresAt: { lt: new Date() } } });
    const user = toUser(row);
    return { user, token: await this.issueToken(user, row.passwordHash!) };
  }

  /**
   * A new session for the user, and its token — only while `passwordHash`,
   * the hash the caller checked the password against, is still the
   * account's. A password change that lands while a sign-in with the old
   * password is being checked wins: the row lock makes this insert wait for
   * the change and then see the new hash, so no session of the old password
   * outlives the change (which ends every other session it can see).
   */
  private async issueToken(user: User, passwordHash: string): Promise<string> {
    const sessionId = randomBytes(18).toString("base64url");
    const expiresAt = new Date(Date.now() + this.options.tokenTtlSeconds * 1000);
    const created = await this.db.$executeRaw`
      INSERT INTO "Session" ("id", "userId", "expiresAt")
      SELECT ${sessionId}, u."id", ${expiresAt}
      FROM "User" u
      WHERE u."id" = ${user.id} AND u."passwordHash" = ${passwordHash}
      FOR SHARE`;
    if (created === 0) throw new AppError("invalid_credentials", "wrong username or password");
    return new SignJWT({ name: user.displayName })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(ISSUER)
      .setSubject(user.id)
      .setJti(sessionId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(await this.key);
  }

  /** Resolves a bearer token to its user, or throws `unauthorized` (see {@link identify}). */
  async authenticate(token: unknown): Promise<User> {
    return (await this.identify(token)).user;
  }

  /**
   * Resolves a bearer token to who it speaks for, or throws `unauthorized`.
   * Switchboard's own tokens are tried first (their session must still
   * exist), then a host application's (`sub` = the host's user id, optional
   * `name`); a host user is created on first sight and its display name
   * follows the token's `name`.
   */
  async identify(token: unknown): Promise<Identity> {
    if (typeof token !== "string" || token.length === 0 || token.length > 4096) {
      throw new AppError("unauthorized", "a token is required");
    }
    const own = await verify(token, await this.key, { issuer: ISSUER });
    if (own?.sub) {
      if (typeof own.jti !== "string") throw new AppError("unauthorized", "this token has no session: sign in again");
      const session = await this.db.session.findUnique({ where: { id: own.jti }, include: { user: true } });
      if (!session || session.userId !== own.sub) throw new AppError("unauthorized", "signed out: sign in again");
      if (session.expiresAt.getTime() <= Date.now()) throw new AppError("unauthorized", "the session has expired");
      return { user: toUser(session.user), sessionId: session.id, expiresAt: session.expiresAt };
    }
    if (this.hostKey) {
      const { issuer, audience } = this.options.hostJwt ?? {};
      const host = await verify(token, await this.hostKey, {
        ...(issuer ? { issuer } : {}),
        ...(audience ? { audience } : {}),
      });
      if (host) return this.hostIdentity(host);
    }
    throw new AppError("unauthorized", "invalid or expired token");
  }

  /**
   * Signs out the session a token names (even an expired one), and closes its
   * connections. A token that is not Switchboard's changes nothing.
   */
  async signOut(token: unknown): Promise<void> {
    if (typeof token !== "string" || token.length === 0 || token.length > 4096) return;
    const own = await verify(token, await this.key, { issuer: ISSUER }, { ignoreExpiry: true });
    if (!own?.sub || typeof own.jti !== "string") return;
    await this.db.session.deleteMany({ where: { id: own.jti, userId: own.sub } });
    await this.connections.closeSessions([own.jti], "signed_out");
  }

  /** Signs a user out of every session and closes all their connections. */
  async signOutEverywhere(userId: string): Promise<void> {
    await this.endSessions(userId, null, "signed_out");
  }

  /**
   * Changes the password of the identity's account after checking the current
   * one (failures count against the username like failed logins), and signs
   * out every other session.
   */
  async changePassword(identity: Identity, input: PasswordChange): Promise<void> {
    if (!identity.sessionId) throw new AppError("forbidden", "this account's password is managed by its host application");
    const row = await this.checkPassword(identity.user.username, input.currentPassword);
    await this.db.user.update({ where: { id: row.id }, data: { passwordHash: await hashPassword(input.newPassword) } });
    await this.endSessions(row.id, identity.sessionId, "password_changed");
  }

  /** Which of these sessions still exist (not signed out, not expired). */
  async liveSessions(sessionIds: string[]): Promise<Set<string>> {
    const rows = await this.db.session.findMany({
      where: { id: { in: sessionIds }, expiresAt: { gt: new Date() } },
      select: { id: true },
    });
    return new Set(rows.map((r) => r.id));
  }

  /** Deletes a user's sessions (all, or all but one) and closes their connections. */
  private async endSessions(userId: string, keep: string | null, reason: "signed_out" | "password_changed"): Promise<void> {
    const where = { userId, ...(keep ? { id: { not: keep } } : {}) };
    const sessions = await this.db.session.findMany({ where, select: { id: true } });
    await this.db.session.deleteMany({ where: { id: { in: sessions.map((s) => s.id) } } });
    if (sessions.length > 0) await this.connections.closeSessions(sessions.map((s) => s.id), reason);
  }

  /** The local account with this username and password, or `invalid_credentials` (in the same time either way). */
  private async checkPassword(username: string, password: string) {
    await this.guard.attempt(username);
    const row = await this.db.user.findUnique({ where: { username } });
    const ok = await verifyPassword(password, row?.passwordHash ?? (await decoyHash));
    if (!row || !row.passwordHash || !ok) throw new AppError("invalid_credentials", "wrong username or password");
    await this.guard.succeeded(username);
    return row;
  }

  private async hostIdentity(claims: JWTPayload): Promise<Identity> {
    const sub = claims.sub;
    if (sub === undefined || claims.exp === undefined || !hostSubject.safeParse(sub).success) {
      throw new AppError("unauthorized", "host token needs `sub` (1–64 printable characters) and `exp`");
    }
    if (RESERVED_HOST_ID.test(sub)) throw new AppError("unauthorized", "this `sub` is reserved for Switchboard's own authors");
    const maxTtl = this.options.hostJwt?.maxTtlSeconds;
    if (maxTtl) {
      // From its issue, or from now if that is earlier: an `iat` in the future cannot stretch it.
      const now = Math.floor(Date.now() / 1000);
      const from = typeof claims.iat === "number" ? Math.min(claims.iat, now) : now;
      if (claims.exp - from > maxTtl) throw new AppError("unauthorized", `host tokens may live at most ${maxTtl} s`);
    }
    const named = typeof claims.name === "string" ? cleanDisplayName(claims.name).slice(0, 64) : "";
    const name = named && hostSubject.safeParse(named).success ? named : sub;
    const username = `${sub}${HOST_USERNAME_SUFFIX}`;
    const row =
      (await this.db.user.findUnique({ where: { id: sub } })) ??
      (await this.db.user
        .create({ data: { id: sub, username, displayName: name } })
        // Two tabs connecting at once both try to create the user: the loser reads the winner's row.
        .catch(async (err: unknown) => {
          if (!isUniqueViolation(err)) throw err;
          return this.db.user.findUniqueOrThrow({ where: { id: sub } });
        }));
    // A host application speaks for its own users only: never for a local
    // account, a bot or the system.
    if (row.passwordHash !== null || row.username !== username) {
      throw new AppError("unauthorized", "token subject is not a host-application user");
    }
    const expiresAt = new Date(claims.exp * 1000);
    if (row.displayName !== name) {
      const updated = await this.db.user.update({ where: { id: sub }, data: { displayName: name } });
      return { user: toUser(updated), sessionId: null, expiresAt };
    }
    return { user: toUser(row), sessionId: null, expiresAt };
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
  opts: { issuer?: string; audience?: string },
  { ignoreExpiry = false } = {},
): Promise<JWTPayload | null> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      ...opts,
      // Signing out works with an expired token too: no need to check when it ends.
      ...(ignoreExpiry ? { currentDate: new Date(0) } : {}),
    });
    return payload;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return null;
    throw err;
  }
}
