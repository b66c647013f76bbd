-- Full-text search over message bodies (server/core/search.ts). An expression
-- index, which schema.prisma cannot describe (Prisma leaves it alone): queries
-- must use exactly this expression for it to serve them. 'simple' neither stems
-- nor drops stop words, so every language is searched alike.
CREATE INDEX "Message_body_search_idx" ON "Message" USING GIN (to_tsvector('simple', "body"));
