/**
 * Proposed server changes, applied from the bench launcher to a running
 * Switchboard (BENCH_EXPERIMENTS=name,…) so they can be measured before
 * anyone edits server/. Each mirrors a change described in docs/benchmarks.md.
 *
 * Two earlier experiments (a single-statement message writer and importing
 * the HS256 key once) were merged into server/ in 051f49c and removed from
 * here: on later code they would only replace the merged versions. Their
 * numbers are in the history of docs/benchmarks.md.
 */
import type { Switchboard } from "../server/server";

export const experiments: Record<string, { describe: string; apply(server: Switchboard): Promise<void> | void }> = {
  "drop-request": {
    describe: "drop Engine.IO's reference to the upgrade HTTP request once a socket is connected",
    apply(server) {
      server.io.of("/").on("connection", (socket) => {
        (socket.conn as unknown as { request: unknown }).request = null;
      });
    },
  },
};
