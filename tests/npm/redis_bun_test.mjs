// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The Redis target from the installed npm package on Bun, on a real
// redis-server with ioredis and node-redis. Run by `deno task test bun`.

import { test } from "bun:test";
import { redisContract } from "./_redis_contract.mjs";

redisContract({ test, name: "Bun" });
