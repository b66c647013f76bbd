-- CreateTable
CREATE TABLE "Publication" (
    "id" BIGSERIAL NOT NULL,
    "namespace" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "clientId" TEXT,
    "userId" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Publication_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Publication_namespace_channel_id_idx" ON "Publication"("namespace", "channel", "id");
