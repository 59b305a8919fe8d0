// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The iroh spoke and hub from the installed npm package on Node, over real
// iroh endpoints. Run by `deno task test node` on Node 20 and 24.

import { test } from "node:test";
import { irohContract } from "./_iroh_contract.mjs";

irohContract({ test, name: `Node ${process.versions.node.split(".")[0]}` });
