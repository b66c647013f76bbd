-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Session_userId_idx" ON "Session"("userId");

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- DM keys become JSON arrays of the two user ids in code-point order
-- ('["a","b"]'), which no other pair can produce: the old form (the two ids
-- joined by a space) was the same for "a b"+"c" and "a"+"b c". Rebuilt from
-- the members: two for a DM between two people, one for a DM with oneself
-- (whose old key is that id twice).
UPDATE "Room" AS r
SET "dmKey" = '[' || to_json(p.lo)::text || ',' || to_json(p.hi)::text || ']'
FROM (
    SELECT "roomId", min("userId" COLLATE "C") AS lo, max("userId" COLLATE "C") AS hi, count(*) AS n
    FROM "Membership"
    GROUP BY "roomId"
) AS p
WHERE r.kind = 'dm' AND r.id = p."roomId"
  AND (p.n = 2 OR (p.n = 1 AND r."dmKey" = p.lo || ' ' || p.lo));

-- A DM whose members cannot tell its pair any more keeps no key.
UPDATE "Room" SET "dmKey" = NULL WHERE kind = 'dm' AND "dmKey" NOT LIKE '["%';
