import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { bucketRetentionDays, buckets, coversWholeBucket, enabledRules, settingsOf, unset } from "../lib/vault";

/** The storage classes Velero and kopia read without a manual restore (components/config/vault.ts TRANSITION_CLASSES). */
const INSTANT_ACCESS_CLASSES = ["STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR"];
import { arr, at, num, obj, show, str } from "../lib/values";

/**
 * A lifecycle that frees what Velero deleted: the AWS plugin deletes without a version id, which on a
 * versioned bucket only adds a delete marker (DESIGN §3).
 */
export const vaultBucketLifecycle: StackValidationPolicy = {
    name: "vault-bucket-lifecycle",
    description:
        "Checks that every vault bucket's lifecycle expires noncurrent versions no sooner than the lock retention, removes expired delete markers, never expires current versions and moves objects only to instant-access storage classes, judging every enabled rule.",
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
                // Every enabled rule, whole-bucket or not: a rule on a prefix or a tag removes backups just the same.
                for (const rule of enabledRules(lifecycle)) {
                    const id = str(rule.id) ?? "(no id)";
                    const expiration = obj(rule.expiration);
                    if (expiration !== undefined && (!unset(expiration.days) || !unset(expiration.date))) {
                        report(
                            violation(
                                "A vault bucket's lifecycle must never expire current versions: that deletes backups Velero still lists, on a schedule no TTL controls.",
                                `${label(lifecycle)} rule ${id} expires current versions (${!unset(expiration.days) ? `after ${show(expiration.days)} days` : `on ${show(expiration.date)}`})`,
                                "Remove expiration.days and expiration.date; keep only expiration.expiredObjectDeleteMarker, and let Velero's TTL delete backups.",
                            ),
                            lifecycle.urn,
                        );
                    }
                    for (const t of [
                        ...(arr(rule.transitions) ?? []),
                        ...(arr(rule.noncurrentVersionTransitions) ?? []),
                    ]) {
                        const storageClass = str(at(t, "storageClass"));
                        if (storageClass !== undefined && !INSTANT_ACCESS_CLASSES.includes(storageClass)) {
                            report(
                                violation(
                                    "A vault bucket's lifecycle may only move objects to storage classes Velero and kopia can read directly.",
                                    `${label(lifecycle)} rule ${id} moves objects to ${storageClass}, which must be restored by hand before it can be read: a recovery would stall`,
                                    `Use only ${INSTANT_ACCESS_CLASSES.join(", ")} (gitops-dr:storageTransitions).`,
                                ),
                                lifecycle.urn,
                            );
                        }
                    }
                    const noncurrent = num(at(rule, "noncurrentVersionExpiration", "noncurrentDays"));
                    if (
                        !coversWholeBucket(rule) &&
                        noncurrent !== undefined &&
                        retention !== undefined &&
                        noncurrent < retention
                    ) {
                        report(
                            violation(
                                "A vault bucket's lifecycle must not expire noncurrent versions before their Object Lock retention ends.",
                                `${label(lifecycle)} rule ${id} expires noncurrent versions after ${noncurrent} days, the lock retains them ${retention} days`,
                                `Set its noncurrentDays to ${retention} or more.`,
                            ),
                            lifecycle.urn,
                        );
                    }
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
