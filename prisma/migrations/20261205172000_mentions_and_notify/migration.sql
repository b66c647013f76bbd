-- CreateEnum
CREATE TYPE "NotifyLevel" AS ENUM ('all', 'mentions', 'none');

-- AlterTable
ALTER TABLE "Membership" ADD COLUMN     "notify" "NotifyLevel" NOT NULL DEFAULT 'all';

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "mentions" TEXT[] DEFAULT ARRAY[]::TEXT[];


