import type { StackValidationPolicy } from "@pulumi/policy";

import { evaluate, partitionOf, principals } from "../lib/iam";
import { schemaOf, thresholds } from "../lib/config";
import { violation } from "../lib/message";
import { inModes } from "../lib/policy";
import {
    DESTRUCTIVE_OBJECT_ACTIONS,
    backupDestructionRequests,
    backupNames,
    destructiveGrants,
    showGrants,
    showSomeRequests,
} from "../lib/vault-keys";

/**
 * A recovery or drill cannot delete or overwrite the backups it restores from. Two ways, both needed:
 * - every principal of the stack is asked, request by request, about the keys the stack's own backups have
 *   under each read-only location's prefix (lib/vault-keys.ts: its schedules' and Restores' backup names, the
 *   namespaces it restores, kopia's fixed names and data packs), so explicit Denies count;
 * - no Allow statement may grant a destructive action on a resource pattern that can match any key under
 *   `<prefix>/backups/` or `<prefix>/kopia/` (a PutObject only under `backups/`), whatever sample names the
 *   requests use: `<prefix>/backups/prod-eu-1-*` is refused because it overlaps, not because a sample matched.
 */
export const iamRestoreRoleReadOnly: StackValidationPolicy = {
    name: "iam-restore-role-read-only",
    description:
        "Checks, by evaluating requests built from the stack's own backup names and kopia's fixed blobs, and by intersecting every Allow's resource patterns with the source prefix's backups and kopia repositories, that no role of a recover or drill stack can delete or overwrite the backups it restores from.",
    enforcementLevel: "mandatory",
    configSchema: schemaOf("allowKopiaBlobWrites"),
    validateStack: inModes(["recover", "drill"], async ({ view, locations, args }, report) => {
        const { allowKopiaBlobWrites } = thresholds(args);
        const sources = locations.filter((l) => l.accessMode === "ReadOnly" && l.bucket !== undefined);
        if (sources.length === 0) {
            args.notApplicable("the stack has no read-only backup location");
        }
        const names = backupNames(view);
        const must = "A recovery or drill role must not be able to delete or overwrite the backups it restores from.";
        const fix =
            "Grant it only s3:GetObject under the source prefix, s3:PutObject and s3:DeleteObject under <prefix>/restores/ and s3:PutObject on kopia's session blobs <prefix>/kopia/*/q*, xn*, s* with kopia's fixed names denied (components/iam.ts restorerPolicy); its own writes belong under its own prefix (gitops-dr:prefix).";
        for (const principal of principals(view)) {
            const partition = partitionOf(principal.documents);
            const bases = sources.map((l) => ({
                bucketArn: `arn:${partition}:s3:::${l.bucket!}`,
                prefix: l.prefix ?? "",
            }));
            const requests = bases.flatMap((b) =>
                backupDestructionRequests(b.bucketArn, b.prefix, names, allowKopiaBlobWrites),
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
                continue;
            }
            if (result.allowed.length > 0) {
                report(violation(must, `${principal.label} can ${showSomeRequests(result.allowed)}`, fix));
                continue;
            }
            const under = (b: { bucketArn: string; prefix: string }, dir: string) =>
                b.prefix === "" ? `${b.bucketArn}/${dir}/*` : `${b.bucketArn}/${b.prefix}/${dir}/*`;
            const grants = [
                ...destructiveGrants(
                    principal.documents,
                    DESTRUCTIVE_OBJECT_ACTIONS,
                    bases.flatMap((b) => [under(b, "backups"), under(b, "kopia")]),
                ),
                ...destructiveGrants(
                    principal.documents,
                    ["s3:PutObject"],
                    bases.map((b) => under(b, "backups")),
                ),
            ];
            if (grants.length > 0) {
                report(violation(must, `${principal.label}: ${showGrants(grants)}`, fix));
            }
        }
    }),
};
