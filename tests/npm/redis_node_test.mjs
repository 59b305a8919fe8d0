// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The Redis target from the installed npm package on Node, on a real
// redis-server with ioredis and node-redis. Run by `deno task test node` on
// Node 20 and 24.

import { test } from "node:test";
import { redisContract } from "./_redis_contract.mjs";

redisContract({ test, name: `Node ${process.versions.node.split(".")[0]}` });
