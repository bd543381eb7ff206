import type { ResourceValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { T, isType } from "../lib/types";
import type { GateResourceOptions } from "../lib/view";

/**
 * Every resource of the vault: losing any of them weakens the backups (a deleted bucket policy lets plain HTTP and
 * SSE-C in, a deleted lifecycle or replication configuration changes what is kept), so each is protected.
 */
const VAULT_TYPES = [
    ...T.bucket,
    ...T.objectLock,
    ...T.kmsKey,
    ...T.versioning,
    ...T.encryption,
    ...T.publicAccessBlock,
    ...T.bucketPolicy,
    ...T.lifecycle,
    ...T.replication,
];

/**
 * `protect` and `retainOnDelete` on the vault's bucket, lock configuration and keys. The engine does not pass
 * `retainOnDelete` to analyzers (pulumi `analyzer.proto`, `AnalyzerResourceOptions`), so under `pulumi
 * preview --policy-pack` only `protect` can be judged; the offline gate judges both.
 */
export const vaultResourcesProtected: ResourceValidationPolicy = {
    name: "vault-resources-protected",
    description:
        "Checks that the vault's buckets, their Object Lock, versioning, encryption, public access, policy, lifecycle and replication configurations, and its KMS keys are protected and retained on delete.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (!isType(args.type, VAULT_TYPES)) {
            return;
        }
        const opts: GateResourceOptions = args.opts;
        if (opts.protect !== true) {
            report(
                violation(
                    "The vault's buckets, their configurations and KMS keys must be protected, so that pulumi destroy refuses to delete them.",
                    `${label(args)} has protect false`,
                    "Create it with the resource option protect: true (gitops-dr's BackupVault does).",
                ),
            );
        }
        if (opts.retainOnDelete === false) {
            report(
                violation(
                    "The vault's buckets, their configurations and KMS keys must be retained on delete, so that even an unprotected destroy leaves them in AWS.",
                    `${label(args)} has retainOnDelete false`,
                    "Create it with the resource option retainOnDelete: true (gitops-dr's BackupVault does).",
                ),
            );
        }
    },
};
