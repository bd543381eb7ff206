import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { bucketName, buckets, settingsOf } from "../lib/vault";
import { parseDocument, partitionOf, simulate } from "../lib/iam";
import { arr, at, obj, show, str, strings } from "../lib/values";

const ALLOW_ALL = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

/** The AWS-managed S3 key, by alias name or alias ARN: its key policy cannot be changed. */
function isAwsManagedKey(keyId: string | undefined): boolean {
    return keyId === undefined || keyId === "" || /(^|:)alias\/aws\/s3$/.test(keyId);
}

/** SSE-KMS with a customer-managed key on every vault bucket. */
export const vaultBucketEncryption: StackValidationPolicy = {
    name: "vault-bucket-encryption",
    description:
        "Checks that every vault bucket encrypts by default with SSE-KMS under a customer-managed key and refuses SSE-C uploads, in its encryption configuration and (evaluated) in its bucket policy.",
    enforcementLevel: "mandatory",
    validateStack: onStack(async ({ view }, report) => {
        const must = "A vault bucket must encrypt by default with SSE-KMS under a customer-managed KMS key.";
        for (const bucket of buckets(view)) {
            const settings = settingsOf(view, bucket, T.encryption);
            if (settings.length === 0) {
                report(
                    violation(
                        must,
                        `no BucketServerSideEncryptionConfiguration configures ${label(bucket)}`,
                        'Register an aws.s3.BucketServerSideEncryptionConfiguration with applyServerSideEncryptionByDefault { sseAlgorithm: "aws:kms", kmsMasterKeyId: <key ARN> } (gitops-dr:kmsKeyArn, or leave it empty to have the vault create a key).',
                    ),
                    bucket.urn,
                );
            }
            for (const policy of settingsOf(view, bucket, T.bucketPolicy)) {
                const document = parseDocument(policy.props.policy);
                if (document === undefined) {
                    continue;
                }
                const arn = `arn:${partitionOf([{ name: policy.name, document }])}:s3:::${bucketName(bucket) ?? bucket.name}`;
                const { decision } = await simulate({
                    identity: [{ name: "allow-all", policy: ALLOW_ALL }],
                    action: "s3:PutObject",
                    resource: `${arn}/any-prefix/kopia/default/q0`,
                    context: {
                        "aws:SecureTransport": "true",
                        "s3:x-amz-server-side-encryption-customer-algorithm": "AES256",
                    },
                    bucketPolicy: document,
                    mode: "Strict",
                });
                if (decision !== "ExplicitlyDenied") {
                    report(
                        violation(
                            "A vault bucket's policy must deny uploads that carry a customer-provided key (SSE-C), whatever a principal's own policies allow.",
                            `${label(policy)} does not deny s3:PutObject with x-amz-server-side-encryption-customer-algorithm`,
                            'Add a statement denying s3:PutObject to Principal "*" when s3:x-amz-server-side-encryption-customer-algorithm is present (Null: "false"), as components/iam.ts bucketPolicy does.',
                        ),
                        policy.urn,
                    );
                }
            }
            for (const setting of settings) {
                const defaults = (arr(setting.props.rules) ?? [])
                    .map((r) => obj(at(r, "applyServerSideEncryptionByDefault")))
                    .filter((d) => d !== undefined);
                const kms = defaults.filter(
                    (d) => str(d.sseAlgorithm) === "aws:kms" || str(d.sseAlgorithm) === "aws:kms:dsse",
                );
                if (kms.length === 0) {
                    report(
                        violation(
                            must,
                            `${label(setting)} uses ${defaults.length === 0 ? "no default encryption" : defaults.map((d) => show(d.sseAlgorithm)).join(", ")}`,
                            'Set applyServerSideEncryptionByDefault.sseAlgorithm to "aws:kms" with kmsMasterKeyId set to the vault\'s customer-managed key.',
                        ),
                        setting.urn,
                    );
                    continue;
                }
                const blocksSseC = (arr(setting.props.rules) ?? []).every((r) =>
                    strings(at(r, "blockedEncryptionTypes")).includes("SSE-C"),
                );
                if (!blocksSseC) {
                    report(
                        violation(
                            "A vault bucket must refuse uploads encrypted with a customer-provided key (SSE-C): such a version is unreadable to anyone without that key, Velero included.",
                            `${label(setting)} does not list SSE-C in blockedEncryptionTypes`,
                            'Set blockedEncryptionTypes: ["SSE-C"] on its rule (gitops-dr\'s BackupVault does).',
                        ),
                        setting.urn,
                    );
                }
                for (const d of kms) {
                    const keyId = str(d.kmsMasterKeyId);
                    if (isAwsManagedKey(keyId)) {
                        report(
                            violation(
                                must,
                                `${label(setting)} encrypts with ${keyId === undefined || keyId === "" ? "no kmsMasterKeyId, which means the AWS-managed aws/s3 key" : `${show(keyId)}, the AWS-managed key`}`,
                                "Set kmsMasterKeyId to a customer-managed key's ARN (gitops-dr:kmsKeyArn, or leave it empty to have the vault create one): only such a key's policy can be restricted, audited and granted to a recovery account.",
                            ),
                            setting.urn,
                        );
                    }
                }
            }
        }
    }),
};
