-- AlterEnum
ALTER TYPE "MemberRole" ADD VALUE 'admin';

-- AlterTable
ALTER TABLE "Room" ADD COLUMN     "topic" TEXT NOT NULL DEFAULT '';


