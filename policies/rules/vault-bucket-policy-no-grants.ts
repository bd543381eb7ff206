import type { StackValidationPolicy } from "@pulumi/policy";

import { parseDocument } from "../lib/iam";
import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { bucketName, buckets, settingsOf } from "../lib/vault";
import { DESTRUCTIVE_OBJECT_ACTIONS, destructiveGrants, showGrants } from "../lib/vault-keys";

/**
 * What a vault's bucket policy must never allow: a bucket policy grants across every principal it names (`"*"`
 * included, and principals of other accounts), beside whatever their own IAM policies say, so an Allow of a
 * delete, an overwrite, a lock bypass or a change to the bucket's protection there is a path around every role
 * the pack judges.
 */
export const BUCKET_POLICY_FORBIDDEN_ACTIONS = [
    ...DESTRUCTIVE_OBJECT_ACTIONS,
    "s3:PutObject",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:DeleteBucket",
] as const;

/** No Allow in a vault bucket's policy of anything that deletes, overwrites, unlocks or weakens. */
export const vaultBucketPolicyNoGrants: StackValidationPolicy = {
    name: "vault-bucket-policy-no-grants",
    description:
        "Checks that no vault bucket's policy allows deleting, overwriting or unlocking object versions, or changing the bucket's policy, lock, lifecycle, versioning, encryption or replication, to anyone.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        for (const bucket of buckets(view)) {
            for (const policy of settingsOf(view, bucket, T.bucketPolicy)) {
                const document = parseDocument(policy.props.policy);
                if (document === undefined) {
                    // vault-bucket-tls-only reports a policy that is not JSON.
                    continue;
                }
                const name = bucketName(bucket) ?? bucket.name;
                const grants = destructiveGrants(
                    [{ name: label(policy), document }],
                    BUCKET_POLICY_FORBIDDEN_ACTIONS,
                    [`arn:*:s3:::${name}`, `arn:*:s3:::${name}/*`],
                );
                if (grants.length > 0) {
                    report(
                        violation(
                            "A vault bucket's policy must not allow anyone to delete, overwrite or unlock a backup, or to weaken the bucket's protection: it grants beside every role's own policies.",
                            showGrants(grants),
                            "Remove the statement; grant what Velero needs in its roles' identity policies (components/iam.ts), and keep the bucket policy to Deny statements.",
                        ),
                        policy.urn,
                    );
                }
            }
        }
    }),
};
