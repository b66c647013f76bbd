-- AlterTable
ALTER TABLE "Membership" ADD COLUMN     "hiddenThrough" BIGINT;


