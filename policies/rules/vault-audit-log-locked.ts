import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { logBuckets, retentionDays, settingsOf } from "../lib/vault";
import { show } from "../lib/values";

/** The audit trail's own record must survive whoever it records. */
export const vaultAuditLogLocked: StackValidationPolicy = {
    name: "vault-audit-log-locked",
    description:
        "Checks that every CloudTrail trail of the stack writes to a bucket created with Object Lock and a default retention, so that whoever attacks the vault cannot erase the record of it.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        const must =
            "The audit trail's log bucket must be created with Object Lock and a default retention: an attacker with the vault account's credentials must not be able to delete the record of the attack.";
        for (const bucket of logBuckets(view)) {
            if (bucket.props.objectLockEnabled !== true) {
                report(
                    violation(
                        must,
                        `${label(bucket)} has objectLockEnabled ${show(bucket.props.objectLockEnabled)}`,
                        "Create the log bucket with objectLockEnabled: true (only possible at creation: a new bucket).",
                    ),
                    bucket.urn,
                );
                continue;
            }
            const locks = settingsOf(view, bucket, T.objectLock);
            const days = locks.map(retentionDays).find((d) => d !== undefined);
            if (days === undefined) {
                report(
                    violation(
                        must,
                        `no BucketObjectLockConfiguration with a default retention configures ${label(bucket)}`,
                        "Register an aws.s3.BucketObjectLockConfiguration for it with rule.defaultRetention (gitops-dr:auditLogDays).",
                    ),
                    bucket.urn,
                );
            }
        }
    }),
};
