// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// The iroh spoke and hub from the installed npm package on Bun, over real iroh
// endpoints. Run by `deno task test bun`.

import { test } from "bun:test";
import { irohContract } from "./_iroh_contract.mjs";

irohContract({ test, name: "Bun" });
