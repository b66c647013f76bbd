-- CreateEnum
CREATE TYPE "RoomEventKind" AS ENUM ('created', 'joined', 'left', 'removed');

-- CreateTable
CREATE TABLE "RoomEvent" (
    "id" BIGSERIAL NOT NULL,
    "roomId" TEXT NOT NULL,
    "kind" "RoomEventKind" NOT NULL,
    "userId" TEXT NOT NULL,
    "byId" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RoomEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RoomEvent_roomId_createdAt_idx" ON "RoomEvent"("roomId", "createdAt");

-- AddForeignKey
ALTER TABLE "RoomEvent" ADD CONSTRAINT "RoomEvent_roomId_fkey" FOREIGN KEY ("roomId") REFERENCES "Room"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RoomEvent" ADD CONSTRAINT "RoomEvent_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RoomEvent" ADD CONSTRAINT "RoomEvent_byId_fkey" FOREIGN KEY ("byId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- The members of today's group rooms joined when their membership began (who left before is not known).
INSERT INTO "RoomEvent" ("roomId", "kind", "userId", "createdAt")
SELECT m."roomId", 'joined', m."userId", m."joinedAt"
FROM "Membership" m JOIN "Room" r ON r.id = m."roomId"
WHERE r.kind = 'group';
