import type { StackValidationPolicy } from "@pulumi/policy";

import { Request, evaluate, partitionOf, principals } from "../lib/iam";
import { violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { bucketName, buckets } from "../lib/vault";
import { BackupNames, backupNames, protectedObjects, showSomeRequests } from "../lib/vault-keys";

/**
 * Requests that lift the lock on, or change the protection of, a vault bucket: on a sample key of any prefix and
 * on the keys of the stack's own prefixes and backups (`prefixes`, lib/vault-keys.ts), so a grant scoped to
 * `<prefix>/*` or `<prefix>/backups/<schedule>-*` is asked about too.
 */
export function lockBypassRequests(
    bucketArn: string,
    prefixes: readonly string[] = [],
    names?: BackupNames,
): Request[] {
    const objects = [
        `${bucketArn}/any-prefix/backups/any-backup/any-backup.tar.gz`,
        ...(names === undefined
            ? []
            : prefixes.flatMap((p) => {
                  const o = protectedObjects(bucketArn, p, names);
                  // One key of each backup and of each kind of kopia blob: a grant scoped by name shows on one.
                  return [...o.metadata.filter((_, i) => i % 3 === 0), o.fixed[0], o.packs[0]];
              })),
    ];
    return [
        ...objects.flatMap((object) => [
            { action: "s3:BypassGovernanceRetention", resource: object },
            { action: "s3:PutObjectRetention", resource: object },
            { action: "s3:DeleteObjectVersion", resource: object },
        ]),
        { action: "s3:PutBucketObjectLockConfiguration", resource: bucketArn },
        { action: "s3:PutLifecycleConfiguration", resource: bucketArn },
        { action: "s3:PutBucketVersioning", resource: bucketArn },
        { action: "s3:PutBucketPolicy", resource: bucketArn },
        { action: "s3:DeleteBucketPolicy", resource: bucketArn },
        { action: "s3:DeleteBucket", resource: bucketArn },
    ];
}

/**
 * No principal of the stack can lift Object Lock or weaken the vault: evaluated request by request against
 * everything each principal holds.
 */
export const iamRoleNoLockBypass: StackValidationPolicy = {
    name: "iam-role-no-lock-bypass",
    description:
        "Checks, by evaluating requests, that no role or user policy of the stack can bypass Object Lock, delete object versions or change the vault's lock, lifecycle, versioning or bucket policy.",
    enforcementLevel: "mandatory",
    validateStack: onStack(async ({ view, locations, args }, report) => {
        const names = [
            ...new Set(
                [...locations.map((l) => l.bucket), ...buckets(view).map(bucketName)].filter(
                    (b): b is string => b !== undefined,
                ),
            ),
        ];
        if (names.length === 0) {
            args.notApplicable("the stack names no vault bucket");
        }
        const prefixes = locations
            .filter((l) => l.bucket !== undefined)
            .map((l) => ({ bucket: l.bucket!, prefix: l.prefix ?? "" }));
        const known = backupNames(view);
        const must =
            "No role or IAM user of the stack may lift Object Lock, delete object versions or change the vault's protection: backups must outlive every credential.";
        for (const principal of principals(view)) {
            if (principal.external.length > 0 || principal.unreadable.length > 0) {
                report(
                    violation(
                        must,
                        `${principal.label} holds ${[...principal.external, ...principal.unreadable].join(", ")}, which the pack cannot read`,
                        "Define every policy the role holds in the stack, as a valid JSON document (aws.iam.Policy), so it can be evaluated.",
                    ),
                );
            }
            const partition = partitionOf(principal.documents);
            const result = await evaluate(
                principal,
                names.flatMap((b) =>
                    lockBypassRequests(
                        `arn:${partition}:s3:::${b}`,
                        prefixes.filter((p) => p.bucket === b).map((p) => p.prefix),
                        known,
                    ),
                ),
            );
            if (result.error !== undefined) {
                report(
                    violation(
                        must,
                        `${principal.label}'s policies cannot be evaluated: ${result.error}`,
                        "Fix the policy documents so that they are valid IAM policies.",
                    ),
                );
            } else if (result.allowed.length > 0) {
                report(
                    violation(
                        must,
                        `${principal.label} can ${showSomeRequests(result.allowed)}`,
                        "Remove these actions from its policies; only the account's administrators should hold them.",
                    ),
                );
            }
        }
    }),
};
