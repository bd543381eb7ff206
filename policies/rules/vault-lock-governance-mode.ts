import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { buckets, retentionMode, settingsOf } from "../lib/vault";

/** Advice: COMPLIANCE rather than GOVERNANCE for the vault a protect stack creates. */
export const vaultLockGovernanceMode: StackValidationPolicy = {
    name: "vault-lock-governance-mode",
    description:
        "Advises COMPLIANCE instead of GOVERNANCE as the default retention mode of the vault a protect stack creates.",
    enforcementLevel: "advisory",
    validateStack: onStack(({ view, mode, args }, report) => {
        if (mode !== "protect") {
            args.notApplicable(`only a protect stack creates the vault; this one is ${mode}`);
        }
        // The vault's buckets only: the audit trail's log bucket follows lockMode too, and the advice is the vault's.
        for (const lock of buckets(view).flatMap((bucket) => settingsOf(view, bucket, T.objectLock))) {
            if (retentionMode(lock) === "GOVERNANCE") {
                report(
                    violation(
                        "A protect stack's vault should retain backups in COMPLIANCE mode, which nobody, not even the account root, can lift before it expires.",
                        `${label(lock)} uses GOVERNANCE, which any principal with s3:BypassGovernanceRetention can lift`,
                        'Set gitops-dr:lockMode to COMPLIANCE once gitops-dr:lockDays is right (docs/design.md, "Lock modes").',
                    ),
                    lock.urn,
                );
            }
        }
    }),
};
