import type { StackValidationPolicy } from "@pulumi/policy";

import { schemaOf, thresholds } from "../lib/config";
import { violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { VELERO_DEFAULT_TTL_HOURS, goDurationHours, showHours } from "../lib/time";
import { bucketName, bucketRetentionDays, buckets } from "../lib/vault";
import { show, str } from "../lib/values";
import { schedules } from "../lib/velero";

/**
 * Every backup stays locked as long as Velero lists it: TTL within the vault's default retention (DESIGN §3).
 * The retention is read from the vault's lock configuration when the stack creates the vault; a stack that
 * writes to a vault it does not create is judged against `minLockDays`, the floor this pack enforces on vaults.
 */
export const veleroScheduleTtlWithinLock: StackValidationPolicy = {
    name: "velero-schedule-ttl-within-lock",
    description: "Checks that no backup schedule keeps backups longer than the vault's default Object Lock retention.",
    enforcementLevel: "mandatory",
    configSchema: schemaOf("minLockDays"),
    validateStack: onStack(({ view, locations, args }, report) => {
        const { minLockDays } = thresholds(args);
        const must =
            "A backup must stay locked for as long as Velero keeps it: no schedule's TTL may exceed the vault's default retention.";
        const defaultLocation = locations.find((l) => l.isDefault) ?? locations[0];
        for (const s of schedules(view)) {
            const ttl = str(s.template.ttl);
            const hours = ttl === undefined ? VELERO_DEFAULT_TTL_HOURS : goDurationHours(ttl);
            if (hours === undefined) {
                report(
                    violation(
                        must,
                        `${s.where} has ttl ${show(s.template.ttl)}, which is not a Go duration`,
                        'Write the TTL as a Go duration such as "720h" (gitops-dr:backupTtl).',
                    ),
                    s.node.urn,
                );
                continue;
            }
            const locationName = str(s.template.storageLocation);
            const location =
                locationName === undefined ? defaultLocation : locations.find((l) => l.name === locationName);
            const vault = buckets(view).find(
                (b) => location?.bucket !== undefined && bucketName(b) === location.bucket,
            );
            const vaultDays = vault === undefined ? undefined : bucketRetentionDays(view, vault);
            const lockDays = vaultDays ?? minLockDays;
            if (hours > lockDays * 24) {
                const kept = `${s.where} keeps backups ${ttl === undefined ? `${VELERO_DEFAULT_TTL_HOURS}h (Velero's default TTL)` : showHours(hours)}`;
                report(
                    violation(
                        must,
                        vaultDays === undefined
                            ? `${kept}, and a vault this stack does not create is assumed to lock them ${lockDays} days (this policy's minLockDays)`
                            : `${kept}, the vault locks them ${lockDays} days`,
                        vaultDays === undefined
                            ? `Lower the TTL (gitops-dr:backupTtl, gitops-dr:weeklyBackupTtl, gitops-dr:monthlyBackupTtl) to at most ${lockDays * 24}h, or raise this policy's minLockDays to the vault's real retention.`
                            : `Lower the TTL (gitops-dr:backupTtl, gitops-dr:weeklyBackupTtl, gitops-dr:monthlyBackupTtl) to at most ${lockDays * 24}h, or raise gitops-dr:lockDays.`,
                    ),
                    s.node.urn,
                );
            }
        }
    }),
};
