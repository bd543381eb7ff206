import type { StackValidationPolicy } from "@pulumi/policy";

import { allowedWithBucketPolicy, evaluate, parseDocument, partitionOf, principals } from "../lib/iam";
import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { bucketName, buckets, settingsOf } from "../lib/vault";

/**
 * The vault's bucket policy lets Velero write its backups. kopia (the data mover) sends no encryption header
 * (velero `pkg/repository/provider/unified_repo.go` passes no SSE options) and S3 authorizes every multipart
 * `UploadPart` as `s3:PutObject` without one, so a PutObject with no `s3:x-amz-server-side-encryption*` key
 * in its request context must pass. IAM evaluates a `...IfExists` or negated condition on an absent key as
 * true (IAM user guide, "Condition operators"), so a Deny keyed on those headers without a `Null` guard
 * refuses exactly these writes: backups then fail while everything looks configured.
 */
export const vaultBucketPolicyAdmitsBackups: StackValidationPolicy = {
    name: "vault-bucket-policy-admits-backups",
    description:
        "Checks, by evaluating requests, that the vault's bucket policy lets each writing principal upload backups that carry no encryption header (kopia writes and multipart parts), which the bucket's default encryption then encrypts.",
    enforcementLevel: "mandatory",
    validateStack: onStack(async ({ view, locations }, report) => {
        const must =
            "The vault's bucket policy must let Velero upload its backups: kopia's writes and every multipart part arrive without an encryption header, and the bucket's default SSE-KMS encrypts them.";
        for (const bucket of buckets(view)) {
            const name = bucketName(bucket);
            const prefixes = locations
                .filter((l) => l.accessMode !== "ReadOnly" && l.bucket === name)
                .map((l) => l.prefix ?? "");
            for (const policy of settingsOf(view, bucket, T.bucketPolicy)) {
                const document = parseDocument(policy.props.policy);
                if (document === undefined) {
                    continue;
                }
                for (const principal of principals(view)) {
                    const partition = partitionOf([{ name: policy.name, document }]);
                    for (const prefix of prefixes) {
                        const object = `arn:${partition}:s3:::${name ?? bucket.name}/${prefix === "" ? "" : `${prefix}/`}kopia/default/p0123456789abcdef0123456789abcdef`;
                        const request = { action: "s3:PutObject", resource: object };
                        // Only principals whose own policies let them write there are Velero's writers.
                        const identity = await evaluate(principal, [request]);
                        if (identity.error !== undefined || identity.allowed.length === 0) {
                            continue;
                        }
                        const withPolicy = await allowedWithBucketPolicy(principal, document, request, {});
                        if (!withPolicy.allowed) {
                            report(
                                violation(
                                    must,
                                    `${label(policy)} refuses ${principal.label} s3:PutObject on ${object} sent without an encryption header`,
                                    'Guard each Deny on s3:x-amz-server-side-encryption* with a Null condition on the same key ("Null": {"<key>": "false"}), so that it only refuses a wrong header, never a missing one; ...IfExists does the opposite.',
                                ),
                                policy.urn,
                            );
                        }
                    }
                }
            }
        }
    }),
};
