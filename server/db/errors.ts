/** Prisma's "unique constraint failed" (P2002), whichever driver adapter raised it. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown; originalCode?: unknown } } | null;
  return e?.code === "P2002" || e?.cause?.originalCode === "23505" || e?.cause?.code === "23505";
}
