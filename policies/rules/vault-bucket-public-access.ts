import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { buckets, settingsOf } from "../lib/vault";
import { list } from "../lib/values";

const FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

/** All four public access block settings on every vault bucket. */
export const vaultBucketPublicAccess: StackValidationPolicy = {
    name: "vault-bucket-public-access",
    description: "Checks that every vault bucket blocks all public access with all four public access block settings.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        const must = "A vault bucket must block all public access.";
        const fix =
            "Set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true in an aws.s3.BucketPublicAccessBlock for the bucket.";
        for (const bucket of buckets(view)) {
            const settings = settingsOf(view, bucket, T.publicAccessBlock);
            if (settings.length === 0) {
                report(violation(must, `no BucketPublicAccessBlock configures ${label(bucket)}`, fix), bucket.urn);
            }
            for (const setting of settings) {
                const off = FLAGS.filter((f) => setting.props[f] !== true);
                if (off.length > 0) {
                    report(violation(must, `${label(setting)} leaves ${list(off)} unset or false`, fix), setting.urn);
                }
            }
        }
    }),
};
