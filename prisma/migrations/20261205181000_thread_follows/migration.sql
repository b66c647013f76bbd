-- CreateTable
CREATE TABLE "ThreadFollow" (
    "userId" TEXT NOT NULL,
    "threadId" BIGINT NOT NULL,
    "roomId" TEXT NOT NULL,
    "lastReadMessageId" BIGINT,

    CONSTRAINT "ThreadFollow_pkey" PRIMARY KEY ("userId","threadId")
);

-- CreateIndex
CREATE INDEX "ThreadFollow_threadId_idx" ON "ThreadFollow"("threadId");

-- AddForeignKey
ALTER TABLE "ThreadFollow" ADD CONSTRAINT "ThreadFollow_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ThreadFollow" ADD CONSTRAINT "ThreadFollow_threadId_fkey" FOREIGN KEY ("threadId") REFERENCES "Message"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Today's threads: their starters and repliers follow them, everything so far read.
INSERT INTO "ThreadFollow" ("userId", "threadId", "roomId", "lastReadMessageId")
SELECT p."userId", t."threadId", t."roomId", t."lastId"
FROM (SELECT x."threadId", x."roomId", max(x.id) AS "lastId" FROM "Message" x WHERE x."threadId" IS NOT NULL GROUP BY x."threadId", x."roomId") t
CROSS JOIN LATERAL (
  SELECT r."authorId" AS "userId" FROM "Message" r WHERE r.id = t."threadId"
  UNION SELECT x."authorId" FROM "Message" x WHERE x."threadId" = t."threadId"
) p;
