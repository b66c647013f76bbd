import type { NextConfig } from "next";

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The custom server (server/) is type-checked by `npm run typecheck`.
  typescript: { tsconfigPath: "tsconfig.json" },
};

export default config;
