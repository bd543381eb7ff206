import type { StackValidationPolicy } from "@pulumi/policy";

import { allowedOverHttp, parseDocument, partitionOf, showRequests } from "../lib/iam";
import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { bucketName, buckets, settingsOf } from "../lib/vault";

/** A bucket policy on every vault bucket that denies plain-HTTP requests, judged by evaluating requests. */
export const vaultBucketTlsOnly: StackValidationPolicy = {
    name: "vault-bucket-tls-only",
    description:
        "Checks that every vault bucket's policy denies requests made without TLS, by evaluating reads, writes and listings sent over plain HTTP.",
    enforcementLevel: "mandatory",
    validateStack: onStack(async ({ view }, report) => {
        const must = "A vault bucket's policy must deny every request made without TLS.";
        const fix =
            'Add a statement denying s3:* on the bucket and its objects to Principal "*" when aws:SecureTransport is "false" (components/iam.ts bucketPolicy does).';
        for (const bucket of buckets(view)) {
            const policies = settingsOf(view, bucket, T.bucketPolicy);
            if (policies.length === 0) {
                report(violation(must, `no BucketPolicy configures ${label(bucket)}`, fix), bucket.urn);
            }
            for (const policy of policies) {
                const document = parseDocument(policy.props.policy);
                if (document === undefined) {
                    report(violation(must, `${label(policy)} has no valid JSON policy document`, fix), policy.urn);
                    continue;
                }
                const arn = `arn:${partitionOf([{ name: policy.name, document }])}:s3:::${bucketName(bucket) ?? bucket.name}`;
                const result = await allowedOverHttp(document, [
                    { action: "s3:GetObject", resource: `${arn}/any-object` },
                    { action: "s3:PutObject", resource: `${arn}/any-object` },
                    { action: "s3:ListBucket", resource: arn },
                ]);
                if (result.error !== undefined) {
                    report(violation(must, `${label(policy)} cannot be evaluated: ${result.error}`, fix), policy.urn);
                } else if (result.allowed.length > 0) {
                    report(
                        violation(
                            must,
                            `${label(policy)} does not deny ${showRequests(result.allowed)} over plain HTTP`,
                            fix,
                        ),
                        policy.urn,
                    );
                }
            }
        }
    }),
};
