declare module "kinesalite" {
  import type { Server } from "node:http";

  interface KinesaliteOptions {
    /** Milliseconds a stream takes to become ACTIVE. */
    createStreamMs?: number;
    deleteStreamMs?: number;
    updateStreamMs?: number;
    shardLimit?: number;
    /** A folder for LevelDB; in memory when absent. */
    path?: string;
  }

  function kinesalite(options?: KinesaliteOptions): Server;
  export = kinesalite;
}
