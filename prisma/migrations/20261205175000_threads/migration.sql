-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "alsoInRoom" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "threadId" BIGINT;

-- CreateIndex
CREATE INDEX "Message_threadId_id_idx" ON "Message"("threadId", "id");


