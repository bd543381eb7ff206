import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { buckets, settingsOf } from "../lib/vault";
import { arr, at, obj, show, str } from "../lib/values";

/** The AWS-managed S3 key, by alias name or alias ARN: its key policy cannot be changed. */
function isAwsManagedKey(keyId: string | undefined): boolean {
    return keyId === undefined || keyId === "" || /(^|:)alias\/aws\/s3$/.test(keyId);
}

/** SSE-KMS with a customer-managed key on every vault bucket. */
export const vaultBucketEncryption: StackValidationPolicy = {
    name: "vault-bucket-encryption",
    description: "Checks that every vault bucket encrypts by default with SSE-KMS under a customer-managed key.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
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
