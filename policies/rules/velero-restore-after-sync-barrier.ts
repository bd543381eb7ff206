import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { inModes } from "../lib/policy";
import { T } from "../lib/types";
import { show } from "../lib/values";
import { SKIP_AWAIT_ANNOTATION, WAIT_FOR_ANNOTATION, annotation, awaitsCompletion, releasesOf, restores, skipsAwait } from "../lib/velero";

/**
 * The Restore of a recovery or drill comes after the sync barrier and is awaited to its end (DESIGN §1): a
 * Restore created before its backup is synced fails validation for good, and what follows the restore must
 * not start while it runs. The barrier is a Job (Pulumi waits for Jobs to complete) that checks the source
 * location is Available and synced and the backup exists and is Completed.
 */
export const veleroRestoreAfterSyncBarrier: StackValidationPolicy = {
    name: "velero-restore-after-sync-barrier",
    description: "Checks that a recover or drill stack has a Restore that waits for Velero and for the backup-check Job (the sync barrier) and is awaited until Completed.",
    enforcementLevel: "mandatory",
    validateStack: inModes(["recover", "drill"], ({ view, mode }, report) => {
        const found = restores(view);
        if (found.length === 0) {
            report(
                violation(
                    `A ${mode} stack must restore the backups with a Restore that waits for the backup sync and is awaited until Completed.`,
                    `no Restore in this ${mode} stack`,
                    "Register the restore sequence (gitops-dr does in recover and drill mode): a backup-check Job, then a velero.io/v1 Restore depending on it.",
                ),
            );
            return;
        }
        const jobs = view.ofType(T.job);
        const velero = releasesOf(view, "velero");
        for (const restore of found) {
            const barriers = jobs.filter((j) => view.dependsOn(restore, j));
            if (barriers.length === 0) {
                report(
                    violation(
                        "A Restore must wait for the sync barrier, a Job that waits until the source location is Available and synced and the backup exists and is Completed: a Restore created before its backup is synced fails validation and is never retried.",
                        `${label(restore)} does not depend on a backup-check Job`,
                        "Make the Restore depend on the backup-check Job (dependsOn).",
                    ),
                    restore.urn,
                );
            } else if (barriers.every(skipsAwait)) {
                report(
                    violation(
                        "The sync barrier must be awaited: Pulumi waits for a Job to complete unless told not to.",
                        `${label(restore)} waits for ${barriers.map(label).join(", ")}, annotated ${SKIP_AWAIT_ANNOTATION}: "true"`,
                        `Remove the ${SKIP_AWAIT_ANNOTATION} annotation from the Job.`,
                    ),
                    restore.urn,
                );
            }
            for (const release of velero) {
                if (!view.dependsOn(restore, release)) {
                    report(
                        violation(
                            "A Restore must wait for Velero's Helm release, which installs its CRDs and server.",
                            `${label(restore)} does not depend on ${label(release)}`,
                            "Make the Restore, or the backup-check Job it depends on, depend on the Velero release.",
                        ),
                        restore.urn,
                    );
                }
            }
            if (!awaitsCompletion(restore)) {
                const waitFor = annotation(restore, WAIT_FOR_ANNOTATION);
                report(
                    violation(
                        "A Restore must be awaited until its phase is Completed, so that what follows starts after the restore has ended.",
                        skipsAwait(restore)
                            ? `${label(restore)} is annotated ${SKIP_AWAIT_ANNOTATION}: "true"`
                            : `${label(restore)} has ${WAIT_FOR_ANNOTATION} ${waitFor === undefined ? "unset" : show(waitFor)}`,
                        `Annotate it ${WAIT_FOR_ANNOTATION}: "jsonpath={.status.phase}=Completed" (and no ${SKIP_AWAIT_ANNOTATION}).`,
                    ),
                    restore.urn,
                );
            }
        }
    }),
};
