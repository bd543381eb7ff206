import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { buckets, settingsOf } from "../lib/vault";
import { at, show } from "../lib/values";

/** Versioning on every vault bucket. */
export const vaultBucketVersioning: StackValidationPolicy = {
    name: "vault-bucket-versioning",
    description:
        "Checks that every vault bucket has versioning enabled, which Object Lock and Velero's delete markers rely on.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        const must =
            "A vault bucket must have versioning enabled: Object Lock protects versions, and Velero's deletes must leave the locked versions in place.";
        for (const bucket of buckets(view)) {
            const settings = settingsOf(view, bucket, T.versioning);
            if (settings.length === 0) {
                report(
                    violation(
                        must,
                        `no BucketVersioning configures ${label(bucket)}`,
                        'Register an aws.s3.BucketVersioning for the bucket with versioningConfiguration.status "Enabled".',
                    ),
                    bucket.urn,
                );
            }
            for (const setting of settings) {
                const status = at(setting.props, "versioningConfiguration", "status");
                if (status !== "Enabled") {
                    report(
                        violation(
                            must,
                            `${label(setting)} has status ${show(status)}`,
                            'Set versioningConfiguration.status to "Enabled".',
                        ),
                        setting.urn,
                    );
                }
            }
        }
    }),
};
