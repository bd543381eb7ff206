/**
 * The gitops-dr policy pack, as `pulumi preview --policy-pack policies` runs it. Constructing a PolicyPack
 * starts the analyzer's gRPC server and never returns (DESIGN §6), so this file holds that call alone; the
 * policies live in ./policies.ts, where tests and the offline gate import them.
 */
import { PolicyPack } from "@pulumi/policy";

import { PACK_ARGS, PACK_NAME } from "./policies";

new PolicyPack(PACK_NAME, PACK_ARGS);
