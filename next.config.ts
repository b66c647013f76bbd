import type { NextConfig } from "next";

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The custom server (server/) is type-checked by `npm run typecheck`.
  typescript: { tsconfigPath: "tsconfig.json" },
  // The basic page for old browsers is a static file: serve it at /legacy.
  async rewrites() {
    return [{ source: "/legacy", destination: "/legacy/index.html" }];
  },
};

export default config;
