import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { bucketRetentionDays, buckets, coversWholeBucket, enabledRules, settingsOf } from "../lib/vault";
import { at, num } from "../lib/values";

/**
 * A lifecycle that frees what Velero deleted: the AWS plugin deletes without a version id, which on a
 * versioned bucket only adds a delete marker (DESIGN §3).
 */
export const vaultBucketLifecycle: StackValidationPolicy = {
    name: "vault-bucket-lifecycle",
    description:
        "Checks that every vault bucket's lifecycle expires noncurrent versions no sooner than the lock retention and removes expired delete markers.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        for (const bucket of buckets(view)) {
            const lifecycles = settingsOf(view, bucket, T.lifecycle);
            if (lifecycles.length === 0) {
                report(
                    violation(
                        "A vault bucket must have a lifecycle that removes noncurrent versions once their lock has ended and removes expired delete markers; Velero deletes without a version id, so otherwise nothing is ever freed.",
                        `no BucketLifecycleConfiguration configures ${label(bucket)}`,
                        "Register an aws.s3.BucketLifecycleConfiguration with an enabled whole-bucket rule setting noncurrentVersionExpiration.noncurrentDays (gitops-dr:noncurrentVersionExpirationDays) and expiration.expiredObjectDeleteMarker: true.",
                    ),
                    bucket.urn,
                );
            }
            const retention = bucketRetentionDays(view, bucket);
            for (const lifecycle of lifecycles) {
                const rules = enabledRules(lifecycle).filter(coversWholeBucket);
                const noncurrentDays = rules
                    .map((r) => num(at(r, "noncurrentVersionExpiration", "noncurrentDays")))
                    .filter((d): d is number => d !== undefined);
                if (noncurrentDays.length === 0) {
                    report(
                        violation(
                            "A vault bucket's lifecycle must expire noncurrent versions, or every backup Velero deletes is kept forever.",
                            `${label(lifecycle)} has no enabled whole-bucket rule with noncurrentVersionExpiration`,
                            "Add an enabled rule with an empty filter and noncurrentVersionExpiration.noncurrentDays of at least the lock retention (gitops-dr:noncurrentVersionExpirationDays).",
                        ),
                        lifecycle.urn,
                    );
                } else if (retention !== undefined && Math.min(...noncurrentDays) < retention) {
                    report(
                        violation(
                            "A vault bucket's lifecycle must not expire noncurrent versions before their Object Lock retention ends.",
                            `${label(lifecycle)} expires noncurrent versions after ${Math.min(...noncurrentDays)} days, the lock retains them ${retention} days`,
                            `Set gitops-dr:noncurrentVersionExpirationDays to ${retention} or more.`,
                        ),
                        lifecycle.urn,
                    );
                }
                if (!rules.some((r) => at(r, "expiration", "expiredObjectDeleteMarker") === true)) {
                    report(
                        violation(
                            "A vault bucket's lifecycle must remove expired delete markers, which Velero's deletes leave behind.",
                            `${label(lifecycle)} has no enabled whole-bucket rule with expiration.expiredObjectDeleteMarker true`,
                            "Add expiration.expiredObjectDeleteMarker: true to the whole-bucket rule that expires noncurrent versions.",
                        ),
                        lifecycle.urn,
                    );
                }
            }
        }
    }),
};
