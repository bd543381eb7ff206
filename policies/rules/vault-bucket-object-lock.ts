import type { StackValidationPolicy } from "@pulumi/policy";

import { schemaOf, thresholds } from "../lib/config";
import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { buckets, retentionDays, retentionMode, settingsOf } from "../lib/vault";
import { show, str } from "../lib/values";

/** Object Lock on every vault bucket, with a default retention of at least `minLockDays`. */
export const vaultBucketObjectLock: StackValidationPolicy = {
    name: "vault-bucket-object-lock",
    description:
        "Checks that every vault bucket has Object Lock with a default retention of at least the configured minimum (and in COMPLIANCE mode when required).",
    enforcementLevel: "mandatory",
    configSchema: schemaOf("minLockDays", "requireCompliance"),
    validateStack: onStack(({ view, args }, report) => {
        const { minLockDays, requireCompliance } = thresholds(args);
        for (const bucket of buckets(view)) {
            if (bucket.props.objectLockEnabled !== true) {
                report(
                    violation(
                        "A vault bucket must be created with Object Lock enabled.",
                        `${label(bucket)} has objectLockEnabled ${show(bucket.props.objectLockEnabled)}`,
                        "Create the bucket with objectLockEnabled: true. S3 only allows it when a bucket is created, so this needs a new bucket.",
                    ),
                    bucket.urn,
                );
            }
            const locks = settingsOf(view, bucket, T.objectLock);
            if (locks.length === 0) {
                report(
                    violation(
                        "A vault bucket must have an Object Lock configuration with a default retention.",
                        `no BucketObjectLockConfiguration configures ${label(bucket)}`,
                        "Register an aws.s3.BucketObjectLockConfiguration for the bucket with rule.defaultRetention (gitops-dr:lockMode, gitops-dr:lockDays).",
                    ),
                    bucket.urn,
                );
            }
            for (const lock of locks) {
                const days = retentionDays(lock);
                const enabled = str(lock.props.objectLockEnabled);
                if (enabled !== "Enabled" || days === undefined) {
                    report(
                        violation(
                            "The vault's Object Lock configuration must be enabled with a default retention, so that every backup version is locked when it is written.",
                            enabled !== "Enabled"
                                ? `${label(lock)} has objectLockEnabled ${show(lock.props.objectLockEnabled)}`
                                : `${label(lock)} has no rule.defaultRetention`,
                            'Set objectLockEnabled: "Enabled" and rule.defaultRetention with a mode and days (gitops-dr:lockMode, gitops-dr:lockDays).',
                        ),
                        lock.urn,
                    );
                    continue;
                }
                if (days < minLockDays) {
                    report(
                        violation(
                            `The vault's default retention must be at least ${minLockDays} days.`,
                            `${label(lock)} retains versions for ${days} days`,
                            `Set gitops-dr:lockDays to ${minLockDays} or more and keep every backup TTL within it, or lower this policy's minLockDays if your organisation allows it.`,
                        ),
                        lock.urn,
                    );
                }
                const mode = retentionMode(lock);
                if (requireCompliance && mode !== "COMPLIANCE") {
                    report(
                        violation(
                            "The vault's default retention mode must be COMPLIANCE (this policy's requireCompliance is on).",
                            `${label(lock)} uses ${show(mode)}`,
                            "Set gitops-dr:lockMode to COMPLIANCE once gitops-dr:lockDays is right; it applies to versions written from then on.",
                        ),
                        lock.urn,
                    );
                }
            }
        }
    }),
};
