import type { StackValidationPolicy } from "@pulumi/policy";

import { Request, evaluate, partitionOf, principals, showRequests } from "../lib/iam";
import { schemaOf, thresholds } from "../lib/config";
import { violation } from "../lib/message";
import { inModes } from "../lib/policy";

/**
 * Requests that would delete or overwrite a backup under a source prefix: its metadata and its kopia content.
 * With `allowKopiaBlobWrites` the PutObject on kopia content is not asked (kopia's compaction adds blobs).
 */
export function backupDeletionRequests(bucketArn: string, prefix: string, allowKopiaBlobWrites = false): Request[] {
    const base = prefix === "" ? bucketArn : `${bucketArn}/${prefix}`;
    const metadata = `${base}/backups/daily-20250101020000/velero-backup.json`;
    const content = `${base}/kopia/default/p0123456789abcdef0123456789abcdef`;
    return [
        { action: "s3:DeleteObject", resource: metadata },
        { action: "s3:PutObject", resource: metadata },
        { action: "s3:DeleteObject", resource: content },
        ...(allowKopiaBlobWrites ? [] : [{ action: "s3:PutObject", resource: content }]),
    ];
}

/**
 * A recovery or drill cannot delete or overwrite the backups it restores from: every principal of the stack
 * is asked, request by request, whether it may delete or overwrite backup metadata and kopia content under
 * each read-only location's prefix.
 */
export const iamRestoreRoleReadOnly: StackValidationPolicy = {
    name: "iam-restore-role-read-only",
    description:
        "Checks, by evaluating requests, that no role of a recover or drill stack can delete or overwrite the backups under the prefix it restores from.",
    enforcementLevel: "mandatory",
    configSchema: schemaOf("allowKopiaBlobWrites"),
    validateStack: inModes(["recover", "drill"], async ({ view, locations, args }, report) => {
        const { allowKopiaBlobWrites } = thresholds(args);
        const sources = locations.filter((l) => l.accessMode === "ReadOnly" && l.bucket !== undefined);
        if (sources.length === 0) {
            args.notApplicable("the stack has no read-only backup location");
        }
        const must = "A recovery or drill role must not be able to delete or overwrite the backups it restores from.";
        for (const principal of principals(view)) {
            const partition = partitionOf(principal.documents);
            const requests = sources.flatMap((l) =>
                backupDeletionRequests(`arn:${partition}:s3:::${l.bucket!}`, l.prefix ?? "", allowKopiaBlobWrites),
            );
            const result = await evaluate(principal, requests);
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
                        `${principal.label} can ${showRequests(result.allowed)}`,
                        "Grant it only s3:GetObject under the source prefix, s3:PutObject and s3:DeleteObject under <prefix>/restores/ and s3:PutObject under <prefix>/kopia/ (components/iam.ts restorerPolicy); its own writes belong under its own prefix (gitops-dr:prefix).",
                    ),
                );
            }
        }
    }),
};
